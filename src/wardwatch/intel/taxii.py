"""TAXII 2.1 collections polled with the OASIS client (``taxii2-client``).

A :class:`TaxiiFeed` names one collection (its full URL ``.../<api-root>/collections/<id>/``) and the
credentials (HTTP Basic, TAXII 2.1 §1.6.8.1). :meth:`TaxiiFeed.poll` asks for objects added after the
cursor of the previous successful poll (``added_after``, TAXII 2.1 §3.4.1) page by page (``limit`` and
``next``, §3.4.2) and remembers the server's ``X-TAXII-Date-Added-Last`` header as the next cursor. The
first poll is a full snapshot of the collection; later polls are incremental (they add, never remove).

Every request has a connect and read timeout, and the whole poll a page limit, so a slow or hostile
server costs bounded time; any failure raises :class:`~wardwatch.intel.misp.FeedFetchError` or
:class:`~wardwatch.errors.ParseError` and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from wardwatch.errors import ParseError
from wardwatch.intel.indicators import IndicatorBatch, Tlp
from wardwatch.intel.misp import FeedFetchError
from wardwatch.intel.stix import objects_of, parse_objects

MAX_PAGES = 1000
_ADDED_LAST = "X-TAXII-Date-Added-Last"


class _BoundedSession(requests.Session):
    """A requests session with a default timeout that remembers the last TAXII date header."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.date_added_last: str | None = None

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (self.default_timeout, self.default_timeout))
        response = super().request(method, url, *args, **kwargs)
        header = response.headers.get(_ADDED_LAST)
        if header:
            self.date_added_last = header
        return response


def _connection(user: str | None, password: str | None, timeout: float, verify: bool | str) -> Any:
    from taxii2client.common import _HTTPConnection

    conn = _HTTPConnection(user, password, verify=verify, version="2.1")
    session = _BoundedSession(timeout)
    session.verify = verify
    session.auth = conn.session.auth
    conn.session.close()
    conn.session = session
    return conn


@dataclass(frozen=True, slots=True)
class TaxiiFeed:
    """One TAXII 2.1 collection."""

    name: str
    collection_url: str
    user: str | None = None
    password: str | None = None
    default_tlp: Tlp = Tlp.GREEN
    timeout: float = 10.0
    page_size: int = 500
    verify: bool | str = True

    def poll(self, cursor: str | None = None) -> IndicatorBatch:
        """Objects added after ``cursor`` (all when ``None``) as one batch; the batch carries the next cursor."""
        from taxii2client.exceptions import TAXIIServiceException
        from taxii2client.v21 import Collection, as_pages

        conn = _connection(self.user, self.password, self.timeout, self.verify)
        batch = IndicatorBatch(feed=self.name, complete=cursor is None)
        try:
            collection = Collection(self.collection_url, conn=conn)
            if not collection.can_read:
                raise FeedFetchError(f"{self.name}: collection {collection.id} is not readable")
            kwargs: dict[str, Any] = {"added_after": cursor} if cursor else {}
            objects: list[dict[str, Any]] = []
            for page, envelope in enumerate(as_pages(collection.get_objects, per_request=self.page_size, **kwargs)):
                if page >= MAX_PAGES:
                    raise FeedFetchError(f"{self.name}: more than {MAX_PAGES} pages")
                objects.extend(objects_of(envelope, f"{self.name}: page {page}", envelope=True))
            parse_objects(objects, self.name, default_tlp=self.default_tlp, batch=batch)
        except requests.Timeout:
            raise FeedFetchError(f"{self.name}: timed out after {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise FeedFetchError(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from None
        except TAXIIServiceException as exc:
            raise FeedFetchError(f"{self.name}: TAXII: {str(exc)[:200]}") from None
        except ValueError as exc:  # a body that is not JSON
            raise ParseError(f"{self.name}: malformed TAXII response: {str(exc)[:200]}") from None
        finally:
            conn.close()
        batch.cursor = conn.session.date_added_last or cursor
        return batch
