"""Mailers: how the [notify] digest reaches operations staff."""
