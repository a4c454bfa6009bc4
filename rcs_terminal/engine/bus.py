"""A small typed publish/subscribe bus for domain events.

Subscribers are plain callables called synchronously in publication order (cheap: no task
per subscriber); :meth:`EventBus.stream` gives an async iterator backed by a queue for front
ends that prefer ``async for``; :meth:`EventBus.wait_for` lets tests and the scenario runner
wait on an event itself rather than on a delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from rcs_terminal.domain.events import Event

E = TypeVar("E", bound=Event)


class EventBus:
    """Publishes domain events to subscribers."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Event], None]] = []

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber."""
        for callback in list(self._subscribers):
            callback(event)

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback`` for each event; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    async def stream(self) -> AsyncIterator[Event]:
        """Iterate over events as they are published."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = lambda e: True,
        timeout: float | None = None,
    ) -> E:
        """Wait until an event of ``kind`` matching ``predicate`` is published.

        Raises:
            TimeoutError: when ``timeout`` seconds pass first.
        """
        future: asyncio.Future[E] = asyncio.get_running_loop().create_future()

        def check(event: Event) -> None:
            if isinstance(event, kind) and not future.done() and predicate(event):
                future.set_result(event)

        unsubscribe = self.subscribe(check)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            unsubscribe()
