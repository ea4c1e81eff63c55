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
        auth.check_password(new, name)
        gw.store.update_user(name, password_hash=auth.hash_password(new))
    except (auth.UserError, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()
    print(f"{name}: contraseña cambiada; sus sesiones abiertas terminaron y sus tokens quedaron revocados / "
          "password changed; open sessions ended, tokens revoked")
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
        if new_role in ("disabled", "enabled"):  # disabling ends sessions and revokes tokens for good
            gw.store.update_user(name, disabled=int(new_role == "disabled"))
        else:
            gw.store.update_user(name, role=new_role)
    finally:
        gw.close()
    print(f"{name}: {new_role}")
    return 0


def token(gw: Gateway, name: str, label: str | None, scope: str = "read", expires: float | None = None) -> int:
    try:
        value = auth.new_token(gw.store, name, label, scope, expires)
    except auth.UserError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        gw.close()
    print(value)
    return 0


def tokens(gw: Gateway, name: str | None, revoke: str | None) -> int:
    """List tokens (id = the first 12 hex digits of the digest, never the token), or revoke one by its id."""
    try:
        if revoke is not None:
            matched = gw.store.revoke_token(revoke.strip().lower())
            if len(matched) != 1:
                print(f"{revoke}: {'ningún token activo' if not matched else 'varios tokens'} con ese id / "
                      f"{'no active token' if not matched else 'several tokens'} with that id", file=sys.stderr)
                return 1
            print(f"{matched[0].id}: token de {matched[0].user_name} revocado / revoked")
            return 0
        for t in gw.store.list_tokens(name):
            if t.revoked_at:
                status = f"revocado {t.revoked_at[:16]} ({t.revoked_reason}) / revoked"
            elif t.expires_at and not t.active():
                status = f"caducado {t.expires_at[:16]} / expired"
            else:
                status = f"activo hasta {t.expires_at[:16]}" if t.expires_at else "activo, sin caducidad"
            print(f"{t.id}  {t.user_name:20} {t.scope:7} {t.label or '-':16} creado {t.created_at[:16]}  {status}")
    finally:
        gw.close()
    return 0
