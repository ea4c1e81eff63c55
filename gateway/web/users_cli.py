"""``immex-gateway users …``: add users, change roles, make API tokens. Passwords never come from argv."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from gateway.app import Gateway
from gateway.web import auth

PASSWORD_ENV = "IMMEX_GATEWAY_PASSWORD"


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise auth.UserError(f"Sin terminal: dé la contraseña con --password-file o ${PASSWORD_ENV}.")
    first = getpass.getpass("Contraseña: ")
    if first != getpass.getpass("Repita la contraseña: "):
        raise auth.UserError("Las contraseñas no coinciden.")
    return first


def add(gw: Gateway, name: str, role: str, password_file: Path | None) -> int:
    try:
        auth.add_user(gw.store, name, role, _password(password_file))
    except (auth.UserError, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()
    print(f"{name}: usuario creado con rol {role}")
    return 0


def password(gw: Gateway, name: str, password_file: Path | None) -> int:
    try:
        if gw.store.get_user(name) is None:
            raise auth.UserError("el usuario no existe")
        new = _password(password_file)
        auth.check_password(new)
        gw.store.update_user(name, password_hash=auth.hash_password(new))
    except (auth.UserError, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()
    print(f"{name}: contraseña cambiada; sus sesiones abiertas terminaron")
    return 0


def listing(gw: Gateway) -> int:
    try:
        for user in gw.store.list_users():
            status = " (deshabilitado)" if user.disabled else ""
            print(f"{user.name:24} {user.role:9} {gw.store.token_count(user.name)} token(s){status}")
    finally:
        gw.close()
    return 0


def role(gw: Gateway, name: str, new_role: str) -> int:
    try:
        if gw.store.get_user(name) is None:
            print(f"{name}: el usuario no existe", file=sys.stderr)
            return 1
        if new_role in ("disabled", "enabled"):
            gw.store.update_user(name, disabled=int(new_role == "disabled"))
        else:
            gw.store.update_user(name, role=new_role)
    finally:
        gw.close()
    print(f"{name}: {new_role}")
    return 0


def token(gw: Gateway, name: str, label: str | None) -> int:
    try:
        value = auth.new_token(gw.store, name, label)
    except auth.UserError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()
    print(value)
    return 0
