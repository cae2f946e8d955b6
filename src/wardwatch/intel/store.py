"""The knowledge base: write an :class:`ImportBatch` in one transaction, read domain records back.

A batch replaces what the knowledge base held under the same key (an advisory of the same source and
id, the KEV/EPSS/SSVC row of the same CVE, the SBOM or MDS2 form of the same vendor and model), so a
re-import of a newer feed updates in place. Writing is all-or-nothing: one ``engine.begin()`` block per
batch. Works on SQLite and PostgreSQL. The SQL lives in :mod:`wardwatch.intel.store_write` and
:mod:`wardwatch.intel.store_read`; this class owns the engine and the transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from wardwatch.domain.advisory import Advisory, EpssScore, KevEntry, Mds2Profile, Sbom, SsvcDecision
from wardwatch.errors import ImportRejectedError
from wardwatch.intel import store_read, store_write
from wardwatch.intel import tables as t
from wardwatch.intel.interface import ImportBatch


class KnowledgeBase:
    """The vulnerability knowledge base on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, url_or_engine: str | Engine, *, create: bool = True) -> None:
        if isinstance(url_or_engine, str):
            url = url_or_engine
            if url.startswith(("postgresql://", "postgres://")):  # psycopg 3 is the driver we ship
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            self.engine = create_engine(url)
        else:
            self.engine = url_or_engine
        if create:
            t.intel_metadata.create_all(self.engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def store(self, batch: ImportBatch) -> int:
        """Write one batch in one transaction; return the id of its ``intel_imports`` row.

        A database error rolls the whole batch back and is raised as ImportRejectedError.
        """
        try:
            with self.engine.begin() as conn:
                return store_write.write_batch(conn, batch)
        except SQLAlchemyError as exc:
            raise ImportRejectedError(f"{batch.file}: database: {type(exc).__name__}: {str(exc)[:300]}") from exc

    def counts(self) -> dict[str, int]:
        """Row count of every knowledge-base table."""
        with self.engine.connect() as conn:
            return store_read.read_counts(conn)

    def advisory_versions(self) -> dict[tuple[str, str], str]:
        """(source, advisory id) → ``updated`` stamp of every stored advisory (early warning compares two)."""
        with self.engine.connect() as conn:
            return store_read.read_advisory_versions(conn)

    def advisories(self, sources: Iterable[str] | None = None) -> list[Advisory]:
        """Every advisory (optionally of some sources) with its vulnerabilities and conditions."""
        with self.engine.connect() as conn:
            return store_read.read_advisories(conn, sources)

    def kev(self) -> dict[str, KevEntry]:
        """The KEV catalog by CVE."""
        with self.engine.connect() as conn:
            return store_read.read_kev(conn)

    def epss(self, cves: Sequence[str] | None = None) -> dict[str, EpssScore]:
        """EPSS scores by CVE (all, or those of ``cves``)."""
        with self.engine.connect() as conn:
            return store_read.read_epss(conn, cves)

    def ssvc(self) -> dict[str, SsvcDecision]:
        """CISA SSVC decision points by CVE."""
        with self.engine.connect() as conn:
            return store_read.read_ssvc(conn)

    def sboms(self) -> list[Sbom]:
        """Every SBOM with its components."""
        with self.engine.connect() as conn:
            return store_read.read_sboms(conn)

    def mds2_profiles(self) -> list[Mds2Profile]:
        """Every MDS2 form with its answers and capability profile."""
        with self.engine.connect() as conn:
            return store_read.read_mds2_profiles(conn)
