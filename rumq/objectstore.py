"""Object storage: ``s3://`` URLs, one client per store, listing, streaming reads, conditional writes.

Everything rumq does with S3 (and S3-compatible stores: MinIO, Ceph, R2, a
local test server) goes through ``ObjectStore``:

* ``list``: the objects under a prefix (1,000 keys per request), with ETag and size;
* ``open``: a streaming reader that resumes with a ranged GET after a broken
  connection and pins the ETag it listed (``If-Match``), so an object
  replaced while it is read fails instead of mixing two versions;
* ``read_head``: the first bytes of an object (one ranged GET);
* ``put``: writes, conditional on the current ETag (``if_match``) or on the
  key being new (``if_none_match``): the dataset's manifest is replaced
  this way, so two writers cannot both commit (see docs/storage.md);
* ``put_new``: an upload under a unique name that never overwrites;
* ``delete``.

Every request is retried with capped exponential backoff and full jitter on
throttling, 5xx and broken connections (``RetryPolicy``); what still fails
becomes a ``RumqError`` subclass whose message names the action and the
resource and says what to do. Credentials come from the standard AWS chain
(environment, shared config and credentials files, ``--profile``, SSO,
container and instance roles) and are never put in a message.

boto3 is imported only when an ``s3://`` URL is used.
"""

from __future__ import annotations

import fnmatch
import io
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from rumq.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    CredentialsError,
    ObjectChangedError,
    ObjectReadError,
    ObjectStoreError,
    StoreUnreachableError,
    UsageError,
)

SCHEME = "s3://"
#: Bucket names as S3 allows them (3-63 characters of lower case, digits, dots, hyphens).
_BUCKET = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"  # compiled at first use (by re)
_GLOB_CHARS = "*?["

#: Error codes the store sends when it wants the client to slow down or try again.
_RETRY_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "503", "500", "502", "504",
})
_EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
_BAD_CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                                   "AuthorizationHeaderMalformed", "InvalidClientTokenId"})
#: boto3 operation -> the IAM action a denial is about.
_ACTIONS = {"list_objects_v2": "s3:ListBucket", "get_object": "s3:GetObject", "head_object": "s3:GetObject",
            "put_object": "s3:PutObject", "delete_objects": "s3:DeleteObject", "head_bucket": "s3:ListBucket"}

T = TypeVar("T")


def is_url(text: str | os.PathLike[str]) -> bool:
    """True for an ``s3://`` URL (anything else is a local path)."""
    return isinstance(text, str) and text.startswith(SCHEME)


@dataclass(frozen=True)
class S3Url:
    """An ``s3://bucket/key`` URL; the key may be empty (the whole bucket), a prefix or a glob."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, text: str) -> S3Url:
        """Parse ``s3://bucket[/key]``.

        Raises:
            UsageError: not an ``s3://`` URL, or the bucket name is not one S3 allows.
        """
        if not is_url(text):
            raise UsageError(f"{text}: not an s3:// URL", hint="write s3://BUCKET/PREFIX")
        bucket, _, key = text[len(SCHEME):].partition("/")
        if not re.match(_BUCKET, bucket) or ".." in bucket:
            raise UsageError(f"{text}: {bucket!r} is not a valid bucket name",
                             hint="bucket names are 3-63 characters: lower-case letters, digits, dots and hyphens")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def is_glob(self) -> bool:
        return any(c in self.key for c in _GLOB_CHARS)

    @property
    def literal_prefix(self) -> str:
        """The key up to its first wildcard: the prefix to list for a glob."""
        cut = min((i for i in (self.key.find(c) for c in _GLOB_CHARS) if i >= 0), default=len(self.key))
        return self.key[:cut]

    def matcher(self) -> Callable[[str], bool]:
        """A predicate on keys: ``*`` and ``?`` stay within one ``/`` segment, ``**`` spans segments.

        A pattern ending in ``/**`` also matches every key below (like ``rumq
        ingest 'dir/**'`` on disk reads every file under ``dir``).
        """
        return re.compile(glob_regex(self.key)).fullmatch  # type: ignore[return-value]


def glob_regex(pattern: str) -> str:
    """The regular expression of a key glob (see ``S3Url.matcher``)."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "a/**/b" also matches "a/b"
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                # fnmatch's class syntax ([!x] negation), never crossing "/".
                cls = fnmatch.translate(pattern[i:j + 1])
                out.append("(?!/)" + cls[cls.index("["):cls.rindex("]") + 1])
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class ObjectInfo:
    """An object as listed: where it is, its ETag (quotes removed) and its size."""

    bucket: str
    key: str
    etag: str
    size: int
    #: LastModified as the store sent it (ISO 8601 text; "" when unknown).
    modified: str = ""

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter (AWS's recommended shape).

    Attributes:
        attempts: tries per request, the first included (``AWS_MAX_ATTEMPTS``; default 5).
        base: seconds; the n-th retry waits a random time up to ``base * 2**n`` ...
        cap: ... but never more than this.
    """

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """``AWS_MAX_ATTEMPTS`` and ``RUMQ_S3_RETRY_BASE`` (seconds) override the defaults."""
        attempts = _env_number("AWS_MAX_ATTEMPTS", int, cls.attempts)
        base = _env_number("RUMQ_S3_RETRY_BASE", float, cls.base)
        return cls(max(1, attempts), max(0.0, base))

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2 ** retry)))


def _env_number(name: str, kind: Callable[[str], Any], default: Any) -> Any:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a number", hint=f"set {name} to a number or unset it") from None


@dataclass(frozen=True)
class ClientOptions:
    """Where and as whom to connect (None: the standard AWS places decide).

    Attributes:
        endpoint_url: an S3-compatible endpoint (``--endpoint-url``; else
            ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` / the config file).
        profile: a profile of the shared config files (``--profile``; else ``AWS_PROFILE``).
        region: else ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile's region.
    """

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None


#: Parallel connections per client: the ingest keeps several objects in flight.
MAX_CONNECTIONS = 16
#: Bytes read from a response at a time.
READ_CHUNK = 256 << 10


class ObjectStore:
    """One S3 (or S3-compatible) endpoint and the credentials to use with it.

    The boto3 client is built on first use; a store is safe to share between
    threads (boto3 clients are).

    Args:
        options: endpoint, profile and region (None: the AWS defaults).
        retry: the backoff policy (None: ``RetryPolicy.from_env()``).
    """

    def __init__(self, options: ClientOptions | None = None, retry: RetryPolicy | None = None) -> None:
        self.options = options or ClientOptions()
        self.retry = retry or RetryPolicy.from_env()
        self._client: Any = None

    # -- the client ----------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        try:
            import boto3
            import botocore.config
            import botocore.exceptions as bex
        except ImportError:  # pragma: no cover (a dependency; only a broken install lacks it)
            raise ObjectStoreError("s3:// URLs need boto3, which is not installed",
                                   hint="pip install boto3 (or reinstall rumq)") from None
        import botocore.session

        o = self.options
        try:
            core = botocore.session.Session(profile=o.profile)
            # Listing 100,000 keys must take seconds: botocore's generic
            # parser spent ~45 ms on a page of 1,000 keys (most of it turning
            # LastModified into datetimes rumq never reads); see _parser_factory.
            core.register_component("response_parser_factory", _parser_factory())
            session = boto3.session.Session(botocore_session=core, region_name=o.region)
        except bex.ProfileNotFound:
            raise CredentialsError(f"the AWS profile {o.profile!r} is not in the shared config files",
                                   hint="check --profile / AWS_PROFILE against ~/.aws/config (aws configure list-profiles)") from None
        endpoint = o.endpoint_url
        config = botocore.config.Config(
            # rumq retries itself (RetryPolicy): broken streams too, and with the errors it can name.
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=MAX_CONNECTIONS,
            connect_timeout=10, read_timeout=60,
            # A custom endpoint (MinIO, a test server) seldom has a DNS name per bucket.
            s3={"addressing_style": "path"} if (endpoint or _env_endpoint()) else None,
            user_agent_extra="rumq",
        )
        try:
            return session.client("s3", endpoint_url=endpoint, config=config)
        except ValueError as e:  # a malformed endpoint URL
            raise UsageError(f"invalid endpoint URL: {e}", hint="give --endpoint-url as http(s)://HOST[:PORT]") from None

    @property
    def endpoint(self) -> str:
        """The endpoint requests go to (for messages; holds no secret; never builds a client)."""
        if self._client is not None:
            return str(self._client.meta.endpoint_url)
        return self.options.endpoint_url or _env_endpoint() or "AWS"

    # -- reading -------------------------------------------------------------
    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order (one request per 1,000 keys)."""
        token: str | None = None
        where = f"{SCHEME}{bucket}/{prefix}"
        while True:
            kw: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            page = self.call("list_objects_v2", where, **kw)
            for o in page.get("Contents", ()):
                yield ObjectInfo(bucket, o["Key"], o["ETag"].strip('"'), int(o["Size"]), o.get("LastModified") or "")
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object at ``key``, or None when there is none."""
        try:
            r = self.call("head_object", f"{SCHEME}{bucket}/{key}", Bucket=bucket, Key=key)
        except ObjectReadError as e:
            if e.args and "NoSuchKey" in str(e.args[0]):
                return None
            raise
        return ObjectInfo(bucket, key, r["ETag"].strip('"'), int(r["ContentLength"]))

    def read_head(self, obj: ObjectInfo, n: int) -> bytes:
        """The first ``n`` bytes of ``obj`` (fewer when it is shorter): one ranged GET."""
        if obj.size == 0 or n <= 0:
            return b""

        def get() -> bytes:
            r = self.client.get_object(Bucket=obj.bucket, Key=obj.key, Range=f"bytes=0-{n - 1}", IfMatch=obj.etag)
            return r["Body"].read()

        return self.retrying("get_object", obj.url, get)

    def read_range(self, obj: ObjectInfo, start: int, n: int) -> bytes:
        """``n`` bytes of ``obj`` from ``start`` (fewer at its end): one ranged GET, pinned to its ETag."""
        if n <= 0 or start >= obj.size:
            return b""

        # An empty ETag: an immutable object (a dataset's data file), nothing to pin.
        pin = {"IfMatch": obj.etag} if obj.etag else {}

        def get() -> bytes:
            r = self.client.get_object(Bucket=obj.bucket, Key=obj.key, Range=f"bytes={start}-{start + n - 1}", **pin)
            return r["Body"].read()

        return self.retrying("get_object", obj.url, get)

    def open_random(self, obj: ObjectInfo) -> RandomAccessObject:
        """A seekable read-only file over ``obj`` (Parquet and ORC read their footer first)."""
        return RandomAccessObject(self, obj)

    def read_all(self, bucket: str, key: str) -> tuple[bytes, str]:
        """A whole (small) object and its ETag, e.g. a manifest."""
        def get() -> tuple[bytes, str]:
            r = self.client.get_object(Bucket=bucket, Key=key)
            return r["Body"].read(), r["ETag"].strip('"')

        return self.retrying("get_object", f"{SCHEME}{bucket}/{key}", get)

    def open(self, obj: ObjectInfo) -> ObjectReader:
        """A streaming reader of ``obj`` (as listed: a different ETag fails the read)."""
        return ObjectReader(self, obj)

    # -- writing -------------------------------------------------------------
    def put(self, bucket: str, key: str, data: bytes, *, if_match: str | None = None,
            if_none_match: bool = False) -> str:
        """Write ``data`` at ``key``; return the new ETag.

        Args:
            if_match: write only if the object's current ETag is this one.
            if_none_match: write only if there is no object at ``key``.

        Raises:
            ObjectChangedError: the condition did not hold (another writer got there first).
        """
        kw: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data}
        if if_match is not None:
            kw["IfMatch"] = f'"{if_match}"'
        if if_none_match:
            kw["IfNoneMatch"] = "*"
        r = self.call("put_object", f"{SCHEME}{bucket}/{key}", **kw)
        return str(r["ETag"]).strip('"')

    def put_new(self, bucket: str, prefix: str, suffix: str, data: bytes) -> str:
        """Upload ``data`` under a new unique key ``<prefix><uuid><suffix>``; return the key.

        The write is conditional on the key being new, so no upload ever
        replaces another (data files are written this way before a commit).
        """
        key = f"{prefix}{uuid.uuid4().hex}{suffix}"
        self.put(bucket, key, data, if_none_match=True)
        return key

    def delete(self, bucket: str, keys: list[str]) -> None:
        """Delete ``keys`` (missing ones are no error), 1,000 per request."""
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            r = self.call("delete_objects", f"{SCHEME}{bucket}/", Bucket=bucket,
                          Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
            errors = r.get("Errors") or []
            if errors:
                e = errors[0]
                raise ObjectStoreError(f"{SCHEME}{bucket}/{e.get('Key')}: delete failed ({e.get('Code')})",
                                       hint="check the credentials' s3:DeleteObject permission")

    # -- requests, retries, errors ------------------------------------------
    def call(self, operation: str, resource: str, **kw: Any) -> Any:
        """``client.<operation>(**kw)``, retried and with errors translated (see ``retrying``)."""
        return self.retrying(operation, resource, lambda: getattr(self.client, operation)(**kw))

    def retrying(self, operation: str, resource: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one request), retrying throttling, 5xx and broken connections.

        Raises:
            ObjectStoreError: a subclass naming ``resource`` and what to do.
        """
        retry = 0
        while True:
            try:
                return fn()
            except Exception as e:  # noqa: BLE001 (sorted by translate; anything else re-raised)
                error = self.translate(e, operation, resource, attempts=retry + 1)
                if error is None:
                    raise
                if not _is_transient(e) or retry + 1 >= self.retry.attempts:
                    raise error from None
                time.sleep(self.retry.delay(retry))
                retry += 1

    def translate(self, e: BaseException, operation: str, resource: str, attempts: int) -> ObjectStoreError | None:
        """The ``RumqError`` for a boto3/botocore exception (None: not one of theirs)."""
        import botocore.exceptions as bex

        action = _ACTIONS.get(operation, operation)
        bucket = resource[len(SCHEME):].split("/", 1)[0] if resource.startswith(SCHEME) else resource
        if isinstance(e, bex.ClientError):
            err = e.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code == "NoSuchBucket" or (status == 404 and operation in ("list_objects_v2", "head_bucket")):
                return BucketNotFoundError(
                    f"bucket {bucket!r} does not exist at {self.endpoint}",
                    hint="check the bucket name in the URL, and --endpoint-url / --profile if it is not on AWS")
            if code in ("AccessDenied", "AllAccessDisabled", "AccountProblem") or status == 403 and code not in (
                    _EXPIRED_CODES | _BAD_CREDENTIAL_CODES):
                return AccessDeniedError(
                    f"access denied: {action} on {resource}",
                    hint=f"grant {action} on it to the credentials in use{self._who()}, or use other credentials (--profile)")
            if code in _EXPIRED_CODES:
                return CredentialsError(f"the AWS credentials have expired ({code}) for {action} on {resource}",
                                        hint=f"refresh them (aws sso login, or new keys){self._who()} and run again")
            if code in _BAD_CREDENTIAL_CODES:
                return CredentialsError(f"the store rejected the AWS credentials ({code}) for {action} on {resource}",
                                        hint=f"check the access key and secret{self._who()} for this endpoint ({self.endpoint})")
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
                return ObjectChangedError(f"{resource} changed while rumq was using it ({code or status})",
                                          hint="run the command again")
            if code in ("NoSuchKey", "404") or status == 404:
                return ObjectReadError(f"{resource}: NoSuchKey (the object was deleted after it was listed)",
                                       hint="run the command again")
            what = f"{code or status} {err.get('Message') or ''}".strip()
            if _is_transient(e):
                return ObjectReadError(f"{resource}: {action} still failing after {attempts} attempt(s) ({what})",
                                       hint="the store is throttling or failing; run the command again later")
            return ObjectStoreError(f"{resource}: {action} failed ({what})",
                                    hint="check the URL and the credentials' permissions")
        if isinstance(e, bex.NoCredentialsError | bex.PartialCredentialsError):
            return CredentialsError(f"no AWS credentials found for {action} on {resource}",
                                    hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile "
                                         "(aws configure / aws sso login), or run with an instance or container role")
        if isinstance(e, bex.ProfileNotFound):
            return CredentialsError(f"the AWS profile {self.options.profile!r} is not in the shared config files",
                                    hint="check --profile / AWS_PROFILE against ~/.aws/config")
        if isinstance(e, bex.TokenRetrievalError | bex.SSOTokenLoadError | bex.UnauthorizedSSOTokenError):
            return CredentialsError(f"the AWS SSO session has expired ({type(e).__name__})",
                                    hint="run `aws sso login` and run again")
        if isinstance(e, bex.EndpointConnectionError | bex.ConnectTimeoutError):
            return StoreUnreachableError(f"cannot reach the object store at {self.endpoint} ({action} on {resource})",
                                         hint="check the network, and --endpoint-url / AWS_ENDPOINT_URL")
        if isinstance(e, _stream_errors()):
            return ObjectReadError(f"{resource}: the connection broke after {attempts} attempt(s) ({type(e).__name__})",
                                   hint="the network or the store is unstable; run the command again")
        return None

    def _who(self) -> str:
        return f" (profile {self.options.profile})" if self.options.profile else ""


def _raw_timestamp(value: str) -> str:
    """Response timestamps stay text (rumq reads none)."""
    return value


def _parser_factory() -> Any:
    """botocore's response parsers, with ListObjectsV2 pages parsed by ElementTree
    straight into the fields rumq reads, and timestamps left as text.

    The result has botocore's shape for those fields (``Contents[].Key/ETag/Size``,
    ``IsTruncated``, ``NextContinuationToken``, ``EncodingType``, ``Prefix``),
    so botocore's own handlers (URL-decoding of keys) run on it unchanged;
    errors and every other operation go through botocore's parser.
    """
    import xml.etree.ElementTree as ET

    from botocore import parsers

    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"

    class ListingParser(parsers.RestXMLParser):
        def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
            if shape is None or shape.name != "ListObjectsV2Output":
                return super()._do_parse(response, shape)
            root = ET.fromstring(response["body"])
            out: dict[str, Any] = {
                "Contents": [{"Key": c.findtext(ns + "Key"), "ETag": c.findtext(ns + "ETag"),
                              "Size": int(c.findtext(ns + "Size") or 0),
                              "LastModified": c.findtext(ns + "LastModified")} for c in root.iter(ns + "Contents")],
                "IsTruncated": root.findtext(ns + "IsTruncated") == "true",
            }
            for name in ("NextContinuationToken", "EncodingType", "Prefix", "KeyCount"):
                value = root.findtext(ns + name)
                if value is not None:
                    out[name] = int(value) if name == "KeyCount" else value
            if not out["Contents"]:
                del out["Contents"]  # as botocore: no key, no Contents
            return out

    class Factory(parsers.ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "rest-xml":
                return ListingParser(**self._defaults)
            return super().create_parser(protocol_name)

    factory = Factory()
    factory.set_parser_defaults(timestamp_parser=_raw_timestamp)
    return factory


def _env_endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def _stream_errors() -> tuple[type[BaseException], ...]:
    """Exceptions of a connection that broke mid-request or mid-body."""
    import botocore.exceptions as bex
    import urllib3.exceptions as u3

    return (bex.ConnectionClosedError, bex.ReadTimeoutError, bex.ResponseStreamingError,
            bex.IncompleteReadError, bex.HTTPClientError, u3.ProtocolError, u3.ReadTimeoutError,
            ConnectionError, TimeoutError)


def _is_transient(e: BaseException) -> bool:
    """Worth retrying: throttling, 5xx, a broken or unreachable connection."""
    import botocore.exceptions as bex

    if isinstance(e, bex.ClientError):
        code = str(e.response.get("Error", {}).get("Code", ""))
        status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in _RETRY_CODES or status >= 500 or status == 429
    return isinstance(e, (bex.EndpointConnectionError, bex.ConnectTimeoutError, *_stream_errors()))


class ObjectReader:
    """Reads one object front to back, in chunks, resuming after a broken connection.

    One GET streams the object; when the connection breaks (or the store
    answers 5xx/throttling), the reader waits (``RetryPolicy``) and asks for
    the rest with a ranged GET. Every GET carries ``If-Match`` with the
    listed ETag, so the bytes all come from one version of the object.
    Nothing is written to disk; at most one chunk is held.

    Args:
        store: the store.
        obj: the object as listed.
        prefix: bytes already fetched from its start (``Prefetcher``), served first.
    """

    def __init__(self, store: ObjectStore, obj: ObjectInfo, prefix: bytes = b"") -> None:
        self.store, self.obj = store, obj
        self.pos = 0  # bytes handed out
        self._prefix = prefix
        self._body: Any = None
        self._failures = 0

    def read(self, n: int = READ_CHUNK) -> bytes:
        """Up to ``n`` bytes (b"" at the end).

        Raises:
            ObjectStoreError: the object cannot be read after retries (``ObjectReadError``),
                changed (``ObjectChangedError``), or access was refused.
        """
        if self._prefix:
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            self.pos += len(out)
            return out
        if self.pos >= self.obj.size:
            return b""
        while True:
            try:
                if self._body is None:
                    kw: dict[str, Any] = {"Bucket": self.obj.bucket, "Key": self.obj.key, "IfMatch": self.obj.etag}
                    if self.pos:
                        kw["Range"] = f"bytes={self.pos}-"
                    self._body = self.store.client.get_object(**kw)["Body"]
                out = self._body.read(n)
                if not out and self.pos < self.obj.size:
                    raise ConnectionError(f"the response ended at byte {self.pos} of {self.obj.size}")
                self.pos += len(out)
                return out
            except Exception as e:  # noqa: BLE001 (translated below, or re-raised)
                self._drop_body()
                self._failures += 1
                error = self.store.translate(e, "get_object", self.obj.url, attempts=self._failures)
                if error is None:
                    raise
                if not _is_transient(e) or self._failures >= self.store.retry.attempts:
                    raise error from None
                time.sleep(self.store.retry.delay(self._failures - 1))

    def _drop_body(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            except Exception:  # noqa: BLE001 (a broken connection may fail to close too)
                pass
            self._body = None

    def close(self) -> None:
        self._drop_body()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RandomAccessObject(io.RawIOBase):
    """A seekable, read-only file over one object: each read is a ranged GET.

    For formats that need random access (Parquet and ORC read their footer,
    then the column chunks they need): nothing is copied to disk, and only
    the byte ranges the reader asks for are fetched. Every GET carries the
    listed ETag, so a file replaced while it is read fails instead of mixing
    two versions. Wrap it in ``io.BufferedReader`` to batch small reads.
    """

    def __init__(self, store: ObjectStore, obj: ObjectInfo) -> None:
        super().__init__()
        self.store, self.obj, self.pos = store, obj, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.obj.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        data = self.store.read_range(self.obj, self.pos, len(buffer))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def size(self) -> int:
        return self.obj.size


class Prefetcher:
    """Keeps several objects in flight while the ingest reads one.

    The objects are read in the order given; while the caller reads object
    ``i``, threads fetch the first ``head_bytes`` of objects ``i+1 ..
    i+in_flight`` (so memory stays under ``in_flight * head_bytes``). The
    rest of a larger object streams when the caller gets there.

    Args:
        store: the store.
        objects: the objects, in reading order.
        in_flight: how many objects are fetched ahead.
        head_bytes: how much of each is fetched ahead.
    """

    def __init__(self, store: ObjectStore, objects: list[ObjectInfo], in_flight: int = 8,
                 head_bytes: int = 4 << 20) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.store, self.head_bytes, self.in_flight = store, head_bytes, in_flight
        self.order = {o.url: i for i, o in enumerate(objects)}
        self.objects = objects
        self.pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="rumq-s3")
        self.futures: dict[int, Any] = {}
        self.next = 0

    def open(self, obj: ObjectInfo) -> ObjectReader:
        """A reader of ``obj``, with what was fetched ahead of it; starts fetching the next ones."""
        i = self.order.get(obj.url)
        if i is None:
            return ObjectReader(self.store, obj)
        self._schedule(i + 1 + self.in_flight)
        fut = self.futures.pop(i, None)
        if fut is None:
            return ObjectReader(self.store, obj)
        # A failure fetching ahead (after its retries) is the caller's failure to read the object.
        return fut.result()

    def _schedule(self, upto: int) -> None:
        while self.next < min(upto, len(self.objects)):
            k = self.next
            self.futures[k] = self.pool.submit(self._fetch, self.objects[k])
            self.next += 1

    def _fetch(self, obj: ObjectInfo) -> ObjectReader:
        reader = ObjectReader(self.store, obj)
        buf = bytearray()
        while len(buf) < min(self.head_bytes, obj.size):
            chunk = reader.read(min(READ_CHUNK, self.head_bytes - len(buf)))
            if not chunk:
                break
            buf += chunk
        if len(buf) < obj.size:
            # The rest streams in the caller; this connection is not kept open.
            reader.close()
        out = ObjectReader(self.store, obj, bytes(buf))
        out._failures = reader._failures
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.futures.clear()


#: Environment variables that decide what a default ``ObjectStore`` talks to, as whom.
_CLIENT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_REGION",
               "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_MAX_ATTEMPTS",
               "RUMQ_S3_RETRY_BASE")
_SHARED: dict[tuple[Any, ...], ObjectStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(options: ClientOptions | None = None) -> ObjectStore:
    """One ``ObjectStore`` per endpoint and identity for the whole process.

    Building a boto3 client costs ~0.1 s; every connection of a command over
    a dataset on S3 (the window, the notices, the totals) reuses one.
    """
    options = options or ClientOptions()
    key = (options, tuple(os.environ.get(k) for k in _CLIENT_ENV))
    with _SHARED_LOCK:
        store = _SHARED.get(key)
        if store is None:
            store = _SHARED[key] = ObjectStore(options)
        return store
