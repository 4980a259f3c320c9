"""The analysis views as Polars LazyFrames: ``Views(data_dir, since=..., until=..., app=...)``.

Each view of docs/analyses.md (``page_views``, ``session_pages``,
``journey_steps``, ``transitions``, ``session_stats``,
``session_page_stats``, ``sessions``, ``session_events``, ``js_errors``, ``http_requests``,
``navigations``, ``web_vitals``, ``resources``, ``cookie_coverage``, the
tables ``events``, ``rumq_events``, ``ingest_totals``, and the table macro
``rumq_audience`` as ``Views.audience``) is written here from its written
definition, not translated from ``rumq.views``; the tests compare every one
with the DuckDB view row for row. Same columns, in the same order, with the
same types, except ``session_uuid`` (and ``user_uuid`` in ``rumq_events``),
which stay the 16 raw bytes of the file (``pl.Binary``) because grouping and
sorting by them is the cheap part of a session key; DuckDB's UUID becomes
text when a DuckDB result turns into a Polars frame.

Everything is lazy and starts from one ``pl.scan_parquet`` of the window's
files (the manifest's list, ``rumq.catalog.window_files``: only the
partitions that overlap the window). The window, the application and each
view's ``event_name`` filter are predicates on the scan, and only the
columns a query uses are read (``LazyFrame.explain()`` shows both; see
docs/analyses.md, *The views in Polars*).

Order within a session is the views' (interaction, nulls last; event_time;
source_line). Pages and URLs are normalized once per distinct raw value and
joined back (``rumq.engines.polars_pages``).

Importing this module does not import Polars.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rumq.pages import PageConfig
from rumq.schema import (
    COLUMNS,
    DERIVED,
    ID_STORAGE,
    PARTITION_COLUMN,
    STORED_COLUMNS,
    VITAL_THRESHOLDS,
)
from rumq.views import APDEX_FRUSTRATED_MS, APDEX_SATISFIED_MS, VIEW_NAMES

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

#: Every name ``Views`` answers to: the tables, then the analysis views in creation order.
NAMES: tuple[str, ...] = ("events", "rumq_events", *VIEW_NAMES, "ingest_totals")

#: A session's key: its stored id pair and cookie state, as the DuckDB views partition and group.
KEY = ("session_uuid", "session_text", "cookieless")
#: The context columns every event-level view carries.
CTX = ("application_id", "application_version", "browser_name", "browser_version", "os_name", "device_type",
       "country_code")
#: interaction, missing last (2^31 - 1), as the views' order key.
_LAST_DEPTH = 2_147_483_647

_DUCK_TO_POLARS = {
    "VARCHAR": "String", "JSON": "String", "TIMESTAMP": "Datetime", "BIGINT": "Int64", "INTEGER": "Int32",
    "BOOLEAN": "Boolean", "DOUBLE": "Float64", "UUID": "Binary", "DATE": "Date",
}


def polars_type(duck: str) -> pl.DataType:
    """The Polars type a DuckDB type of ``rumq.schema`` is read as."""
    import polars as pl

    if duck.endswith("[]"):
        return pl.List(polars_type(duck[:-2]))
    name = _DUCK_TO_POLARS[duck]
    return pl.Datetime("us") if name == "Datetime" else getattr(pl, name)()


def id_text(uuid_col: str | pl.Expr, text_col: str | pl.Expr) -> pl.Expr:
    """The canonical id text of a stored pair: the UUID's 16 bytes as 8-4-4-4-12 hex, else the text."""
    import polars as pl

    u = pl.col(uuid_col) if isinstance(uuid_col, str) else uuid_col
    t = pl.col(text_col) if isinstance(text_col, str) else text_col
    return pl.coalesce(uuid_text(u), t)


def uuid_text(u: pl.Expr) -> pl.Expr:
    """16 raw bytes as canonical (lowercase, hyphenated) UUID text; NULL stays NULL."""
    import polars as pl

    hexed = u.bin.encode("hex")
    return pl.concat_str([hexed.str.slice(a, n) for a, n in ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))],
                         separator="-")


def session_starts() -> pl.Expr:
    """True on the first row of each session of a frame sorted by the session key (``KEY``).

    On sorted rows a session's window is a run of rows: comparing each row's key
    with the previous row's is much cheaper than a window partitioned by the key.
    """
    import polars as pl

    return pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in KEY).fill_null(True)


def position_in_session() -> pl.Expr:
    """1-based position of each row in its session, on rows sorted by the session key."""
    import polars as pl

    row = pl.int_range(pl.len(), dtype=pl.Int64)
    return row - pl.when(session_starts()).then(row).forward_fill() + 1


def _has_session() -> pl.Expr:
    import polars as pl

    return pl.col("session_uuid").is_not_null() | pl.col("session_text").is_not_null()


def _pseudo_session() -> pl.Expr:
    """A page view without a session id is a session of its own: ``page:<source_file>:<source_line>``."""
    import polars as pl

    return pl.concat_str([pl.lit("page:"), pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String)])


def _normalized(lf: pl.LazyFrame, raw: str, out: str, expr: Any) -> pl.LazyFrame:
    """``lf`` plus ``out`` = ``expr(raw)``, computed once per distinct raw value and joined back."""
    import polars as pl

    m = lf.select(pl.col(raw).alias("_raw")).unique().drop_nulls().with_columns(expr(pl.col("_raw")).alias(out))
    return lf.join(m, left_on=raw, right_on="_raw", how="left", maintain_order="left")


class Views:
    """The analysis views of one time window and application, as LazyFrames.

    ``views["page_views"]`` or ``views.page_views``; each is built on first
    use and kept. Nothing is read until a frame is collected.

    Args:
        data_dir: the dataset directory.
        since: keep events with ``event_time >= since`` (naive UTC), or None.
        until: keep events with ``event_time < until`` (naive UTC), or None.
        app: keep only this ``application_id`` (already resolved), or None.
        pages: the page normalization config (default: ``rumq.pages.load_config`` for the dataset).

    Raises:
        DatasetError: the directory is not a dataset.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        app: str | None = None,
        pages: PageConfig | None = None,
    ) -> None:
        from rumq.catalog import window_files
        from rumq.pages import load_config
        from rumq.store import Store

        self.data_dir = os.fspath(data_dir)
        store = Store(data_dir)
        store.check()
        self.remote = store.remote
        self.since, self.until, self.app = since, until, app
        self.files = window_files(data_dir, since, until)
        self.pages = pages if pages is not None else load_config(data_dir=data_dir)
        if self.pages.selects_pages:
            from rumq.errors import UsageError

            # The DuckDB views leave those page views out; these views do not yet, and must
            # not give a different answer in silence.
            raise UsageError(
                "the Polars views do not apply rumq.toml's [pages] exclude / include rules",
                hint="remove the rules for this run, or use the DuckDB engine (the default)")
        self._built: dict[str, pl.LazyFrame] = {}

    def __repr__(self) -> str:
        return f"Views({self.data_dir!r}, since={self.since!r}, until={self.until!r}, app={self.app!r})"

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __contains__(self, name: object) -> bool:
        return name in NAMES

    def __getitem__(self, name: str) -> pl.LazyFrame:
        if name not in NAMES:
            from rumq.errors import UsageError

            raise UsageError(f"no view named {name!r}", hint=f"views: {', '.join(NAMES)}")
        if name not in self._built:
            self._built[name] = getattr(self, f"_{name}")()
        return self._built[name]

    def __getattr__(self, name: str) -> pl.LazyFrame:
        if name.startswith("_") or name not in NAMES:
            raise AttributeError(name)
        return self[name]

    # -- the tables ---------------------------------------------------------------

    def _rumq_events(self) -> pl.LazyFrame:
        """The stored columns of the window's events plus the canonical ids (DuckDB's ``rumq_events``)."""
        import polars as pl

        stored = {c.name: polars_type(c.type) for c in STORED_COLUMNS}
        if self.files and self.remote:
            # A dataset on an object store: Polars' own S3 client knows neither rumq's
            # endpoint settings nor its retries, so DuckDB reads the window (materialised).
            from rumq import catalog

            con = catalog.connect(self.data_dir, since=self.since, until=self.until, views=False)
            try:
                table = con.sql(f"SELECT {', '.join(stored)}, {PARTITION_COLUMN} FROM rumq_events").to_arrow_table()
            finally:
                con.close()
            lf = pl.from_arrow(table).lazy().cast({**stored, PARTITION_COLUMN: pl.Date()})
        elif self.files:
            lf = pl.scan_parquet(self.files, hive_partitioning=True)
            lf = lf.select(*stored, pl.col(PARTITION_COLUMN).cast(pl.Date))
        else:
            lf = pl.LazyFrame(schema={**stored, PARTITION_COLUMN: pl.Date()})
        if self.since is not None:
            lf = lf.filter(pl.col("event_time") >= self.since)
        if self.until is not None:
            lf = lf.filter(pl.col("event_time") < self.until)
        if self.app is not None:
            lf = lf.filter(pl.col("application_id") == self.app)
        from rumq.api import _polars_message

        # ``message`` is stored as message_head + message_tail (rumq.schema.MESSAGE_EXPR).
        message = _polars_message()
        derived = {
            "metadata": message.str.json_path_match("$.metadata").alias("metadata"),
            "event_details": message.str.json_path_match("$.event_details").alias("event_details"),
            "message": message,
            **{name: id_text(u.name, t.name).alias(name) for name, (u, t) in ID_STORAGE.items()},
        }
        # The columns in DuckDB's order: stored, event_date, then rumq.schema.DERIVED's.
        return lf.with_columns(*(derived[name] for name in DERIVED))

    def _events(self) -> pl.LazyFrame:
        """The canonical table (docs/schema.md) plus ``event_date``."""
        return self.rumq_events.select(*(c.name for c in COLUMNS), PARTITION_COLUMN)

    def _ingest_totals(self) -> pl.LazyFrame:
        import polars as pl

        from rumq.views import ingest_totals

        names = ("ingests", "read", "written", "duplicates", "rejected")
        values = ingest_totals(self.data_dir)
        return pl.LazyFrame({n: [v] for n, v in zip(names, values, strict=True)}, schema=dict.fromkeys(names, pl.Int64))

    # -- page views and paths ----------------------------------------------------------

    def _page_views(self) -> pl.LazyFrame:
        """Every page view; one without a session id is its own cookieless session (pseudo id)."""
        import polars as pl

        from rumq.engines.polars_pages import page_expr

        cols = ["page_raw", "interaction", "source_file", "source_line", "parent_page_id", "time_on_parent_page",
                "title", "referrer", "referrer_domain", "page_tags", *CTX]
        ev = self.rumq_events.filter(pl.col("event_name") == "page_view").rename({"page_id": "page_raw"})
        with_id = ev.filter(_has_session()).select(
            "event_id", "event_time", "session_id", "user_id", "cookieless", *cols, "session_uuid", "session_text")
        without = ev.filter(~_has_session()).select(
            "event_id", "event_time", _pseudo_session().alias("session_id"), "user_id",
            pl.lit(True).alias("cookieless"), *cols, "session_uuid", _pseudo_session().alias("session_text"))
        pv = pl.concat([with_id, without], how="vertical")
        return _normalized(pv, "page_raw", "page", lambda e: page_expr(e, self.pages))

    def _cookie_coverage(self) -> pl.LazyFrame:
        """One row: share of the window's page views in cookie sessions, and the two counts."""
        import polars as pl

        cookieless = pl.col("cookieless") | ~_has_session()
        return self.rumq_events.filter(pl.col("event_name") == "page_view").select(
            pl.when(cookieless).then(0.0).otherwise(1.0).mean().alias("coverage"),
            pl.len().cast(pl.Int64).alias("page_views"),
            (~cookieless).fill_null(False).sum().cast(pl.Int64).alias("cookie_page_views"),
        )

    def _session_pages(self) -> pl.LazyFrame:
        """Page views in session order: ``seq``, ``prev_page``, ``is_last``."""
        import polars as pl

        ordered = self.page_views.sort([*KEY, "interaction", "event_time", "source_line"], nulls_last=True)
        first, last = session_starts(), session_starts().shift(-1).fill_null(True)
        return ordered.select(
            "session_id", "user_id", "cookieless", "application_id", "event_id", "event_time", "interaction",
            "page_raw", "page",
            position_in_session().alias("seq"),
            pl.when(first).then(None).otherwise(pl.col("page").shift(1)).alias("prev_page"),
            (last | pl.col("event_time").shift(-1).is_null()).alias("is_last"),
            "session_uuid", "session_text",
        )

    def _journey_steps(self) -> pl.LazyFrame:
        """The session path with consecutive repeats of a page collapsed."""
        import polars as pl

        # The first page view is always a step: its missing prev_page is no repeat of a NULL page.
        repeat = (pl.col("seq") > 1) & pl.col("prev_page").eq_missing(pl.col("page"))
        steps = self.session_pages.filter(~repeat).sort([*KEY, "seq"])
        last = session_starts().shift(-1).fill_null(True)
        return steps.select(
            "session_id", "user_id", "cookieless", "application_id", "page", "event_time", "seq",
            position_in_session().alias("step"),
            pl.when(last).then(None).otherwise(pl.col("page").shift(-1)).alias("next_page"),
            pl.when(last).then(None).otherwise(pl.col("event_time").shift(-1)).alias("next_time"),
            (last | pl.col("seq").shift(-1).is_null()).alias("is_last"),
            "session_uuid", "session_text",
        )

    def _transitions(self) -> pl.LazyFrame:
        """Edges (entry) -> first page -> ... -> last page -> (exit) of every session path."""
        import polars as pl

        head = ["session_id", "user_id", "cookieless", "session_uuid", "session_text"]
        js = self.journey_steps
        entry = js.filter(pl.col("step") == 1).select(
            *head, pl.lit(0, pl.Int64).alias("from_step"), pl.lit("(entry)").alias("from_page"),
            pl.col("page").alias("to_page"), pl.lit(None, pl.Datetime("us")).alias("from_time"),
            pl.col("event_time").alias("to_time"))
        edges = js.select(
            *head, pl.col("step").alias("from_step"), pl.col("page").alias("from_page"),
            pl.when(pl.col("is_last")).then(pl.lit("(exit)")).otherwise(pl.col("next_page")).alias("to_page"),
            pl.col("event_time").alias("from_time"), pl.col("next_time").alias("to_time"))
        return pl.concat([entry, edges], how="vertical")

    # -- sessions -------------------------------------------------------------------

    def _session_stats(self) -> pl.LazyFrame:
        """One row per session (id pair and cookie state) with at least one page view in the window."""
        import polars as pl

        name = pl.col("event_name")
        failed = pl.col("http_status").ge(400).fill_null(True)
        epoch_s = lambda c: pl.col(c).dt.epoch("us").cast(pl.Float64) / 1e6  # noqa: E731 (DuckDB epoch())
        per = ["application_version", "browser_name", "os_name", "device_type", "country_code", "web_client_version"]
        flags = {"page_views": name == "page_view", "js_errors": name == "js_error", "http_requests": name == "http",
                 "http_errors": (name == "http") & failed}
        grouped = (
            self.rumq_events.filter(_has_session())
            .group_by(list(KEY))
            .agg(
                pl.col("user_uuid").min(), pl.col("user_text").min(),
                pl.col("application_id").min(),
                *(pl.col(c).min() for c in per),
                pl.col("event_time").min().alias("start_time"),
                pl.col("event_time").max().alias("end_time"),
                pl.len().cast(pl.Int64).alias("events"),
                *(e.sum().cast(pl.Int64).alias(k) for k, e in flags.items()),
            )
            .filter(pl.col("page_views") > 0)
            .with_columns(
                id_text("session_uuid", "session_text").alias("session_id"),
                # The session's user: its smallest user id as text (UUIDs order as their text does).
                # Rendered after the aggregation: text functions inside one run group by group.
                pl.min_horizontal(uuid_text(pl.col("user_uuid")), pl.col("user_text")).alias("user_id"),
                (epoch_s("end_time") - epoch_s("start_time")).alias("duration_s"),
            )
        )
        one_page = (
            self.rumq_events.filter((name == "page_view") & ~_has_session())
            .select(
                _pseudo_session().alias("session_id"), pl.lit(True).alias("cookieless"), "user_id",
                "application_id", *per,
                pl.col("event_time").alias("start_time"), pl.col("event_time").alias("end_time"),
                pl.lit(0.0).alias("duration_s"), pl.lit(1, pl.Int64).alias("events"),
                pl.lit(1, pl.Int64).alias("page_views"), pl.lit(0, pl.Int64).alias("js_errors"),
                pl.lit(0, pl.Int64).alias("http_requests"), pl.lit(0, pl.Int64).alias("http_errors"),
            )
        )
        cols = ["session_id", "cookieless", "user_id", "application_id", "application_version", "start_time",
                "end_time", "duration_s", "events", "page_views", "js_errors", "http_requests", "http_errors",
                "browser_name", "os_name", "device_type", "country_code", "web_client_version"]
        both = pl.concat([grouped.select(cols), one_page.select(cols)], how="vertical")
        return both.select(
            *cols[:10], (pl.col("page_views") == 1).alias("bounced"),
            "js_errors", "http_requests", "http_errors",
            (pl.col("js_errors") + pl.col("http_errors") > 0).alias("has_error"),
            *cols[13:],
        )

    def _session_page_stats(self) -> pl.LazyFrame:
        """Per session, from its page views alone: page views, bounce, entry and exit page."""
        import polars as pl

        from rumq.engines.polars_pages import page_expr

        depth = pl.col("interaction").fill_null(_LAST_DEPTH)
        pv = self.rumq_events.filter(pl.col("event_name") == "page_view")
        # Entry / exit: the page id of the first / last page view in session order
        # (NULL when that page view has none).
        agg = (
            pv.filter(_has_session())
            .sort([*KEY, depth, "event_time", "source_line"], nulls_last=True)
            .group_by(list(KEY))
            .agg(
                pl.len().cast(pl.Int64).alias("page_views"),
                pl.col("page_id").first().alias("entry_page_raw"),
                pl.col("page_id").last().alias("exit_page_raw"),
            )
            .select(id_text("session_uuid", "session_text").alias("session_id"), "cookieless", "page_views",
                    "entry_page_raw", "exit_page_raw")
        )
        one = pv.filter(~_has_session()).select(
            _pseudo_session().alias("session_id"), pl.lit(True).alias("cookieless"),
            pl.lit(1, pl.Int64).alias("page_views"), pl.col("page_id").alias("entry_page_raw"),
            pl.col("page_id").alias("exit_page_raw"))
        both = pl.concat([agg, one], how="vertical")
        raws = pl.concat([both.select(pl.col("entry_page_raw").alias("_raw")),
                          both.select(pl.col("exit_page_raw").alias("_raw"))]).unique().drop_nulls()
        m = raws.with_columns(page_expr(pl.col("_raw"), self.pages).alias("_norm"))
        out = (both.join(m.rename({"_norm": "entry_page"}), left_on="entry_page_raw", right_on="_raw", how="left")
               .join(m.rename({"_norm": "exit_page"}), left_on="exit_page_raw", right_on="_raw", how="left"))
        return out.select("session_id", "cookieless", "page_views", (pl.col("page_views") == 1).alias("bounced"),
                          "entry_page", "exit_page", "entry_page_raw", "exit_page_raw")

    def _sessions(self) -> pl.LazyFrame:
        """``session_stats`` with the entry and exit pages of ``session_page_stats``."""
        p = self.session_page_stats.select("session_id", "cookieless", "entry_page", "exit_page", "entry_page_raw",
                                           "exit_page_raw")
        s = self.session_stats.join(p, on=["session_id", "cookieless"], how="left", nulls_equal=False)
        return s.select(
            "session_id", "cookieless", "user_id", "application_id", "application_version", "start_time",
            "end_time", "duration_s", "events", "page_views", "entry_page", "exit_page", "entry_page_raw",
            "exit_page_raw", "bounced", "js_errors", "http_requests", "http_errors", "has_error", "browser_name",
            "os_name", "device_type", "country_code", "web_client_version",
        )

    def _session_events(self) -> pl.LazyFrame:
        """The events of sessions, each under its session's id: events with a session id, and
        page views without one as sessions of their own (the pseudo id), as ``session_stats`` counts them."""
        import polars as pl

        cols = ["event_id", "event_time", "event_name", "user_id", "application_id", "page_id", "domain",
                "source_file", "source_line"]
        ev = self.rumq_events
        with_id = ev.filter(_has_session()).select("session_id", "cookieless", *cols, "session_uuid", "session_text")
        without = ev.filter((pl.col("event_name") == "page_view") & ~_has_session()).select(
            _pseudo_session().alias("session_id"), pl.lit(True).alias("cookieless"), *cols, "session_uuid",
            _pseudo_session().alias("session_text"))
        return pl.concat([with_id, without], how="vertical")

    # -- event-level views ----------------------------------------------------------------

    def _of(self, *names: str) -> pl.LazyFrame:
        import polars as pl

        ev = self.rumq_events
        return ev.filter(pl.col("event_name") == names[0]) if len(names) == 1 else ev.filter(
            pl.col("event_name").is_in(list(names)))

    def _head(self) -> list[Any]:
        import polars as pl

        return ["event_id", "event_time", "session_id", "user_id", "cookieless", pl.col("page_id").alias("page_raw")]

    def _js_errors(self) -> pl.LazyFrame:
        from rumq.engines.polars_pages import page_expr

        e = self._of("js_error").select(*self._head(), "error_type", "error_message", "error_stack", "error_filename",
                                        "error_lineno", "error_colno", *CTX)
        return _normalized(e, "page_raw", "page", lambda x: page_expr(x, self.pages))

    def _http_requests(self) -> pl.LazyFrame:
        import polars as pl

        from rumq.engines.polars_pages import url_expr

        status = pl.col("http_status")
        h = self._of("http").select(
            *self._head(), pl.col("http_method").alias("method"), pl.col("http_url").alias("url"),
            status.alias("status"),
            pl.when(status.is_null()).then(pl.lit("network"))
            .otherwise(pl.concat_str([(status // 100).cast(pl.String), pl.lit("xx")])).alias("status_class"),
            status.ge(400).fill_null(True).alias("failed"),
            pl.col("http_status_text").alias("status_text"), pl.col("http_error_type").alias("error_type"),
            pl.col("http_error_message").alias("error_message"), "trace_id", *CTX)
        return _normalized(h, "url", "url_pattern", lambda x: url_expr(x, self.pages))

    def _navigations(self) -> pl.LazyFrame:
        import polars as pl

        from rumq.engines.polars_pages import page_expr

        d = pl.col("duration")
        band = (pl.when(d <= APDEX_SATISFIED_MS).then(pl.lit("satisfied"))
                .when(d <= APDEX_FRUSTRATED_MS).then(pl.lit("tolerating"))
                .when(d.is_not_null()).then(pl.lit("frustrated")))
        n = self._of("navigation").select(
            *self._head(), "initiator_type", "navigation_type", "duration", band.alias("apdex_band"),
            "redirect_time", "dns_time", "connect_time", "tls_time", "time_to_first_byte", "response_time",
            "dom_interactive", "dom_content_loaded", "dom_complete", "dom_processing_time", "load_event_time",
            "transfer_size", *CTX)
        return _normalized(n, "page_raw", "page", lambda x: page_expr(x, self.pages))

    def _web_vitals(self) -> pl.LazyFrame:
        import polars as pl

        from rumq.engines.polars_pages import page_expr

        v, name = pl.col("vital_value"), pl.col("event_name")
        rating: Any = pl.when(v.is_null()).then(pl.lit(None, pl.String))
        for metric, (good, poor) in VITAL_THRESHOLDS.items():
            rating = rating.when(name == metric).then(
                pl.when(v <= good).then(pl.lit("good")).when(v <= poor).then(pl.lit("needs-improvement"))
                .otherwise(pl.lit("poor")))
        w = self._of(*VITAL_THRESHOLDS).select(
            *self._head(), name.str.to_uppercase().alias("metric"), v.alias("value"), rating.alias("rating"), *CTX)
        return _normalized(w, "page_raw", "page", lambda x: page_expr(x, self.pages))

    def _resources(self) -> pl.LazyFrame:
        import polars as pl

        from rumq.engines.polars_pages import url_expr

        r = self._of("resource").select(
            *self._head(), pl.col("target_url").alias("url"), "file_type", "initiator_type", "duration",
            "transfer_size", *CTX)
        return _normalized(r, "url", "url_pattern", lambda x: url_expr(x, self.pages))

    # -- the audience table macro -----------------------------------------------------------

    def audience(self, dim: str, include_cookieless: bool = False) -> pl.LazyFrame:
        """``rumq_audience(dim, include_cookieless)``: sessions, page views, error-session rate, p75 LCP per value.

        ``dim`` names a column that ``session_stats`` and ``events`` both have.

        Raises:
            UsageError: ``dim`` is not such a column.
        """
        import polars as pl

        both = set(self.session_stats.collect_schema()) & set(self.events.collect_schema())
        if dim not in both:
            from rumq.errors import UsageError

            raise UsageError(f"no column {dim!r} in both session_stats and events",
                             hint=f"columns: {', '.join(sorted(both))}")
        ss = self.session_stats
        if not include_cookieless:
            ss = ss.filter(~pl.col("cookieless"))
        s = ss.group_by(pl.col(dim).alias("k")).agg(
            pl.len().cast(pl.Int64).alias("sessions"), pl.col("page_views").sum().alias("page_views"),
            pl.col("has_error").sum().cast(pl.Int64).alias("error_sessions"))
        lcp = self.events.filter(pl.col("event_name") == "lcp")
        if not include_cookieless:
            lcp = lcp.filter(~(pl.col("cookieless") | pl.col("session_id").is_null()))
        q = lcp.group_by(pl.col(dim).alias("k")).agg(
            pl.col("vital_value").quantile(0.75, interpolation="linear").alias("lcp_p75_ms"))
        cov = self.cookie_coverage.select("coverage")
        return (
            # nulls_equal: the sessions without the value and the LCP events without it are one row
            # (the macro groups the union of both sides on k, where NULL meets NULL).
            s.join(q, on="k", how="full", coalesce=True, nulls_equal=True)
            .join(cov, how="cross")
            .select(
                "k", pl.col("sessions").fill_null(0).alias("sessions"),
                pl.col("page_views").fill_null(0).cast(pl.Int64).alias("page_views"),
                (pl.col("error_sessions") / pl.col("sessions")).alias("error_session_rate"),
                "lcp_p75_ms", "coverage")
        )
