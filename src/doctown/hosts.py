"""Host names as HTTP servers see them: the name in a `Host` header, loopback, every interface.

Shared by the worker (`doctown serve`) and the pack viewer (`doctown view`), which both refuse
requests for names they do not answer to (DNS rebinding).
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ALL_INTERFACES = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


def host_name(header: str) -> str:
    """The name in a Host header, without port, brackets or trailing dot, lower-cased."""
    value = header.strip().lower()
    if value.startswith("["):  # [::1]:8003
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def is_ip(name: str) -> bool:
    """Whether `name` is an IP address rather than a name."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(name: str) -> bool:
    """Whether `name` (as `host_name` gives it) reaches this machine only."""
    return name == "localhost" or (is_ip(name) and ipaddress.ip_address(name).is_loopback)
