"""Which Redis the store talks to, and how: one URL, three deployments.

``store.url`` names a single Redis, a Redis Cluster or a Sentinel-managed master:

=================================================================  ==================================
``redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]``                     one Redis (redis-py's own parsing)
``rediss://...``                                                   the same over TLS
``unix://[[USER]:PASSWORD@]/PATH/redis.sock[?db=N]``               one Redis on a local socket
``redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...][/]``  a Cluster; any reachable nodes seed it
``rediss+cluster://...``                                           a Cluster over TLS
``redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,...]/SERVICE[/DB]`` the master Sentinel names SERVICE
``rediss+sentinel://...``                                          the same over TLS (Sentinels and data nodes)
=================================================================  ==================================

TLS is chosen by the scheme (the ``s`` of ``rediss``), as for a single Redis, so one look at
the URL says whether the wire is encrypted. The user and password are the ACL credentials of
the data nodes. The query string takes a few options, all without secrets (so that the one
place a password can sit is the user part, which ``dashboard.redact`` masks):

- ``ssl_ca_certs=PATH``, ``ssl_certfile=PATH``, ``ssl_keyfile=PATH``, ``ssl_cert_reqs=required|none``
  for TLS (``none``: lab set-ups with self-signed certificates only);
- ``sentinel_auth=true`` (Sentinel only): the Sentinels want the same credentials as the data
  nodes; by default they are asked without any, as Sentinel is usually deployed.

The clients are redis-py's own (``redis.cluster.RedisCluster`` follows MOVED and ASK and
re-reads the slot map; ``redis.sentinel.Sentinel.master_for`` asks the Sentinels where the
master is after every broken connection), so no routing is written here.

``parse`` runs when the config is loaded: a bad URL stops start-up naming ``store.url``, and
its messages never repeat the URL, which may carry a password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

SINGLE_SCHEMES = ("redis", "rediss", "unix")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379
#: Options the query string may carry, by deployment.
TLS_OPTIONS = frozenset({"ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"})
SENTINEL_OPTIONS = frozenset({"sentinel_auth"})
SINGLE_OPTIONS = frozenset({"db"})  # a unix:// socket names its database here
MAX_NODES = 64
SCHEMES_HELP = (
    "must be memory:// or redis://host:port/db (also rediss://, unix://, "
    "redis[s]+cluster://HOST:PORT,..., redis[s]+sentinel://HOST:PORT,.../SERVICE)"
)

Kind = Literal["single", "cluster", "sentinel"]


def _outage_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import ClusterError, ReadOnlyError, SlotNotCoveredError, TryAgainError

    return (ClusterError, TryAgainError, SlotNotCoveredError, ReadOnlyError)


#: Errors that say "the cluster is moving or failing over", not "this write is wrong": a
#: slot without a master, a migration in progress, a master demoted under us. redis-py maps
#: them to classes and strips their CLUSTERDOWN / TRYAGAIN / READONLY prefix, so the store
#: must know them by class; the feed then retries instead of dead-lettering the message.
#: ``ClusterError`` (CLUSTERDOWN is one) is also what redis-py raises when it gave up
#: following redirections and TRYAGAIN answers ("TTL exhausted"): a script whose keys are
#: half moved gets TRYAGAIN for as long as the migration of their slot lasts.
OUTAGE_ERRORS = _outage_errors()


@dataclass(frozen=True)
class RedisTarget:
    """A parsed ``store.url``; ``url`` is kept for the single-Redis case (redis-py parses it)."""

    kind: Kind
    url: str
    tls: bool = False
    nodes: tuple[tuple[str, int], ...] = ()
    username: str | None = None
    password: str | None = None
    service: str | None = None
    db: int = 0
    options: dict[str, str] = field(default_factory=dict)


def parse(url: str) -> RedisTarget:
    """Split a store URL into its parts; ``ValueError`` (never quoting the URL) when it is wrong."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(SCHEMES_HELP)
    if scheme in SINGLE_SCHEMES:
        from redis.connection import parse_url

        try:
            parse_url(url)
        except ValueError:  # redis-py's message may quote a part of the URL
            raise ValueError(f"not a valid {scheme}:// URL (a port or an option is not a number)") from None
        # redis-py takes any option here and fails on a wrong one only when it connects,
        # after start-up has printed its URLs: the same options as a cluster's, checked now
        _options(rest.partition("?")[2], TLS_OPTIONS | SINGLE_OPTIONS)
        return RedisTarget("single", url, tls=scheme == "rediss")
    if scheme not in CLUSTER_SCHEMES + SENTINEL_SCHEMES:
        raise ValueError(SCHEMES_HELP)
    kind: Kind = "cluster" if scheme in CLUSTER_SCHEMES else "sentinel"
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else (unquote(user) or None)
        if not colon:  # ``scheme://secret@host``: a lone user part is the password, as redis-py reads it
            username = None
    nodes = _nodes(hosts, DEFAULT_PORT if kind == "cluster" else DEFAULT_SENTINEL_PORT)
    options = _options(query, TLS_OPTIONS | (SENTINEL_OPTIONS if kind == "sentinel" else frozenset()))
    service, db = None, 0
    parts = [p for p in path.split("/") if p]
    if kind == "cluster":
        if parts:
            raise ValueError("a cluster has only database 0: nothing may follow the node list but /")
    else:
        if not parts or len(parts) > 2:
            raise ValueError("redis+sentinel:// needs /SERVICE (the master's name in Sentinel) and at most /DB after it")
        service = unquote(parts[0])
        if len(parts) == 2:
            if not parts[1].isdigit():
                raise ValueError("the database after the service must be a number")
            db = int(parts[1])
    return RedisTarget(
        kind,
        url,
        tls=scheme.startswith("rediss"),
        nodes=nodes,
        username=username,
        password=password,
        service=service,
        db=db,
        options=options,
    )


def _nodes(hosts: str, default_port: int) -> tuple[tuple[str, int], ...]:
    if not hosts:
        raise ValueError("needs at least one HOST:PORT")
    out: list[tuple[str, int]] = []
    for item in hosts.split(","):
        item = item.strip()
        if item.startswith("["):  # [IPv6]:port
            host, _, tail = item[1:].partition("]")
            port_text = tail.removeprefix(":")
        else:
            host, _, port_text = item.partition(":")
        if not host:
            raise ValueError("an empty host in the node list")
        if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65_536):
            raise ValueError("a port in the node list is not a number from 1 to 65535")
        out.append((host, int(port_text) if port_text else default_port))
    if len(out) > MAX_NODES:
        raise ValueError(f"more than {MAX_NODES} nodes listed")
    return tuple(out)


def _options(query: str, allowed: frozenset[str]) -> dict[str, str]:
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"an unknown option in the query (known: {', '.join(sorted(allowed))})")
    if options.get("ssl_cert_reqs", "required") not in ("required", "none"):
        raise ValueError("ssl_cert_reqs must be required or none")
    if options.get("sentinel_auth", "false") not in ("true", "false"):
        raise ValueError("sentinel_auth must be true or false")
    return options


def describe(target: RedisTarget) -> str:
    """For logs and health: the deployment and its nodes, never a credential."""
    if target.kind == "single":
        return "redis (single)"
    nodes = ",".join(f"{h}:{p}" for h, p in target.nodes)
    return f"redis {target.kind} {nodes}" + (f" service {target.service}" if target.service else "")


def connect(url: str, **kwargs: Any) -> Any:
    """A client for ``url`` with redis-py's own Cluster or Sentinel support.

    ``kwargs`` are connection settings (timeouts, retry, ``decode_responses``) and apply to
    every data connection. The result offers the ``redis.Redis`` command API; a cluster
    client routes each command (and each script, by its keys) to the slot's master.
    """
    import redis

    target = parse(url)
    if target.kind == "single":
        return redis.Redis.from_url(url, **kwargs)
    auth: dict[str, Any] = {"username": target.username, "password": target.password}
    tls = _tls_kwargs(target)
    if target.kind == "cluster":
        from redis.cluster import ClusterNode, RedisCluster

        # the Retry of a cluster client covers the whole command (re-reading the slot map
        # between attempts); retry_on_error is a per-connection setting it does not take
        kwargs = {k: v for k, v in kwargs.items() if k not in ("retry_on_error", "health_check_interval")}
        return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in target.nodes], **auth, **tls, **kwargs)
    from redis.sentinel import Sentinel

    sentinel_kwargs = {k: v for k, v in kwargs.items() if k.startswith("socket_")} | tls
    if target.options.get("sentinel_auth") == "true":
        sentinel_kwargs.update(auth)
    sentinel = Sentinel(list(target.nodes), sentinel_kwargs=sentinel_kwargs, **tls)
    assert target.service is not None
    return sentinel.master_for(target.service, db=target.db, **auth, **kwargs)


def _tls_kwargs(target: RedisTarget) -> dict[str, Any]:
    if not target.tls:
        return {}
    out: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": target.options.get("ssl_cert_reqs", "required")}
    for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
        if name in target.options:
            out[name] = target.options[name]
    return out
