"""The generic ``characteristic``/``parm`` tree of a wap-provisioningdoc.

An RCC.14 configuration document (OMA Client Provisioning, ``wap-provisioningdoc``) is a
tree of ``<characteristic type="...">`` nodes whose leaves are ``<parm name="..."
value="..."/>``. This module owns that tree as plain immutable values, independent of what
any node means: unknown characteristics are kept as they are, so a document from a newer
network loses nothing, and the typed view (:mod:`.reader`) reads only what it knows.

Names are matched case-insensitively (AOSP's ``RcsConfig`` does the same, and real servers
differ in case, e.g. ``Public_user_identity_List``). The same parm name recurs under
different parents (``MaxSize`` in ``StandaloneMsg`` and in ``Chat``), so lookups go by path.

Path syntax, used by :meth:`Characteristic.find` and friends: segments separated by ``/``,
each a characteristic type; the last segment of a parm path is the parm name. A segment may
select by ``AppID`` with brackets, ``APPLICATION[ap2002]``. When several characteristics
match a segment, every branch is searched in document order (so ``APPLICATION/MESSAGING``
finds the ``MESSAGING`` of whichever ``APPLICATION`` holds one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Parm:
    """One ``<parm name value/>`` leaf.

    Attributes:
        name: the parm name, as sent (surrounding blanks removed).
        value: the raw value string (``""`` when the attribute was absent).
    """

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Characteristic:
    """One ``<characteristic type>`` node with its parms and child characteristics.

    Parms and children are kept in document order, each in its own tuple (the relative
    order of parms and characteristics inside one node carries no meaning in RCC.14).

    Attributes:
        type: the characteristic type, as sent (surrounding blanks removed).
        parms: the parm leaves directly under this node.
        children: the characteristics directly under this node.
    """

    type: str
    parms: tuple[Parm, ...] = ()
    children: tuple[Characteristic, ...] = ()

    # ------------------------------------------------------------------ direct access

    def parm(self, name: str) -> str | None:
        """Return the value of the first direct parm called ``name`` (any case), or None."""
        key = name.casefold()
        for parm in self.parms:
            if parm.name.casefold() == key:
                return parm.value
        return None

    def parm_values(self, name: str) -> list[str]:
        """Return the values of every direct parm called ``name``, in document order."""
        key = name.casefold()
        return [parm.value for parm in self.parms if parm.name.casefold() == key]

    def child(self, type_: str) -> Characteristic | None:
        """Return the first direct child of type ``type_`` (any case), or None."""
        key = type_.casefold()
        for child in self.children:
            if child.type.casefold() == key:
                return child
        return None

    def children_of(self, type_: str) -> list[Characteristic]:
        """Return every direct child of type ``type_``, in document order."""
        key = type_.casefold()
        return [child for child in self.children if child.type.casefold() == key]

    @property
    def app_id(self) -> str | None:
        """The ``AppID`` parm of this node (APPLICATION and 3GPP_IMS nodes carry one)."""
        return self.parm("AppID")

    # ------------------------------------------------------------------ path access

    def find_all(self, path: str) -> Iterator[Characteristic]:
        """Yield every characteristic below this node that matches ``path``.

        Args:
            path: characteristic types separated by ``/``, relative to this node; a segment
                may carry an ``[AppID]`` filter.
        """
        return _walk((self,), _split(path))

    def find(self, path: str) -> Characteristic | None:
        """Return the first characteristic below this node matching ``path``, or None."""
        return next(self.find_all(path), None)

    def get(self, path: str) -> str | None:
        """Return the value of the parm at ``path`` (``"A/B/parm"``), or None.

        Every characteristic matching the leading segments is tried in document order;
        the first one holding the parm wins.
        """
        parents, _, name = path.rpartition("/")
        nodes = self.find_all(parents) if parents else iter((self,))
        for node in nodes:
            value = node.parm(name)
            if value is not None:
                return value
        return None


def _split(path: str) -> list[tuple[str, str | None]]:
    segments: list[tuple[str, str | None]] = []
    for raw in path.strip("/").split("/"):
        if not raw:
            continue
        name, bracket, rest = raw.partition("[")
        app_id = rest.removesuffix("]").casefold() if bracket else None
        segments.append((name.casefold(), app_id))
    return segments


def _walk(
    nodes: tuple[Characteristic, ...], segments: list[tuple[str, str | None]]
) -> Iterator[Characteristic]:
    """Depth-first, document-order search; iterative so deep trees cannot recurse."""
    stack: list[tuple[Characteristic, int]] = [(node, 0) for node in reversed(nodes)]
    while stack:
        node, depth = stack.pop()
        if depth == len(segments):
            yield node
            continue
        name, app_id = segments[depth]
        matches = [
            child
            for child in node.children
            if child.type.casefold() == name
            and (app_id is None or (child.app_id or "").casefold() == app_id)
        ]
        stack.extend((child, depth + 1) for child in reversed(matches))


def iter_nodes(roots: tuple[Characteristic, ...]) -> Iterator[tuple[str, Characteristic]]:
    """Yield ``(path, node)`` for every characteristic of a forest, in document order."""
    stack: list[tuple[str, Characteristic]] = [(root.type, root) for root in reversed(roots)]
    while stack:
        path, node = stack.pop()
        yield path, node
        stack.extend((f"{path}/{child.type}", child) for child in reversed(node.children))
