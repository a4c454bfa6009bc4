"""Geolocation push: ``application/vnd.gsma.rcspushlocation+xml`` and its ``geo:`` fallback.

GSMA RCC.07 geolocation push (formats.md §8), a PIDF-LO style document (RFC 4119/5491
shapes)::

    <rcsenvelope xmlns="urn:gsma:params:xml:ns:rcs:rcs:geolocation" ... entity="tel:+86...">
      <rcspushlocation id="..." label="...">
        <rpid:place-type rpid:until="..."/>
        <gp:geopriv><gp:location-info>
          <gs:Circle srsName="urn:ogc:def:crs:EPSG::4326">
            <gml:pos>LAT LON</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">R</gs:radius>
          </gs:Circle></gp:location-info>
          <gp:usage-rules><gp:retention-expiry>...</gp:retention-expiry></gp:usage-rules>
        </gp:geopriv>
        <timestamp>...</timestamp>
      </rcspushlocation>
    </rcsenvelope>

Elements are found by local name anywhere under ``rcspushlocation`` (a ``gml:Point``
without radius is accepted too, and so is the ``rcsenveloppe`` misspelling one open client
emits). The SMS / CSP text fallback is an RFC 5870 ``geo:`` URI with the UP label
parameter: ``geo:LAT,LON;crs=gcj02;u=RADIUS;rcs-l=<percent-encoded label>``; Chinese
platforms use the GCJ-02 datum (``crs=gcj02``), elsewhere WGS 84 is the default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol.up import _xml
from rcs_terminal.protocol.xmlsafe import Element, local_name

GEOLOCATION_NS = "urn:gsma:params:xml:ns:rcs:rcs:geolocation"
RPID_NS = "urn:ietf:params:xml:ns:pidf:rpid"
GEOPRIV_NS = "urn:ietf:params:xml:ns:pidf:geopriv10"
GML_NS = "http://www.opengis.net/gml"
PIDFLO_NS = "http://www.opengis.net/pidflo/1.0"
WGS84_SRS = "urn:ogc:def:crs:EPSG::4326"
METRE_UOM = "urn:ogc:def:uom:EPSG::9001"
WGS84 = "wgs84"
GCJ02 = "gcj02"

MAX_GEO_URI = 4096
"""Longest ``geo:`` text accepted."""

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


@dataclass(frozen=True, kw_only=True)
class LocationPush:
    """A shared location.

    Attributes:
        entity: the sender's URI (``rcsenvelope/@entity``), as sent.
        id: ``rcspushlocation/@id``.
        label: ``rcspushlocation/@label`` or the ``rcs-l`` parameter.
        latitude: degrees.
        longitude: degrees.
        radius: uncertainty radius in metres, when given.
        until: when the location stops being valid (RFC 3339, as sent).
        timestamp: when it was taken (RFC 3339, as sent).
        crs: the datum: ``"wgs84"``, ``"gcj02"``, or another ``srsName`` as sent.
    """

    entity: str | None = None
    id: str | None = None
    label: str | None = None
    latitude: float
    longitude: float
    radius: float | None = None
    until: str | None = None
    timestamp: str | None = None
    crs: str = WGS84

    def to_xml(self) -> bytes:
        """The ``rcspushlocation+xml`` document (UTF-8).

        Raises:
            LocalProtocolError: when a value holds a character XML cannot carry.
        """
        x = _xml
        entity = "" if self.entity is None else f' entity="{x.attr(self.entity)}"'
        attrs = "".join(
            f' {name}="{x.attr(value)}"'
            for name, value in (("id", self.id), ("label", self.label))
            if value is not None
        )
        srs = x.attr(WGS84_SRS if self.crs == WGS84 else self.crs)
        pos = f"<gml:pos>{x.decimal(self.latitude)} {x.decimal(self.longitude)}</gml:pos>"
        if self.radius is None:
            shape = f'<gml:Point srsName="{srs}">{pos}</gml:Point>'
        else:
            radius = f'<gs:radius uom="{METRE_UOM}">{x.decimal(self.radius)}</gs:radius>'
            shape = f'<gs:Circle srsName="{srs}">\n{pos}\n{radius}\n</gs:Circle>'
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<rcsenvelope xmlns="{GEOLOCATION_NS}" xmlns:rpid="{RPID_NS}"',
            f' xmlns:gp="{GEOPRIV_NS}" xmlns:gml="{GML_NS}" xmlns:gs="{PIDFLO_NS}"{entity}>\n',
            f"<rcspushlocation{attrs}>\n",
        ]
        if self.until is not None:
            parts.append(f'<rpid:place-type rpid:until="{x.attr(self.until)}"/>\n')
        parts.append(f"<gp:geopriv>\n<gp:location-info>\n{shape}\n</gp:location-info>\n")
        if self.until is not None:
            expiry = f"<gp:retention-expiry>{x.text(self.until)}</gp:retention-expiry>"
            parts.append(f"<gp:usage-rules>\n{expiry}\n</gp:usage-rules>\n")
        parts.append("</gp:geopriv>\n")
        if self.timestamp is not None:
            parts.append(f"<timestamp>{x.text(self.timestamp)}</timestamp>\n")
        parts.append("</rcspushlocation>\n</rcsenvelope>\n")
        return "".join(parts).encode("utf-8")

    def to_geo_uri(self) -> str:
        """The ``geo:`` text fallback (latitude, longitude, crs, radius and label only)."""
        x = _xml
        parts = [f"geo:{x.decimal(self.latitude)},{x.decimal(self.longitude)}"]
        parts.append(f"crs={quote(self.crs, safe='')}")
        if self.radius is not None:
            parts.append(f"u={x.decimal(self.radius)}")
        if self.label is not None:
            parts.append(f"rcs-l={quote(self.label, safe='')}")
        return ";".join(parts)


def build_geopush(
    latitude: float,
    longitude: float,
    *,
    radius: float | None = None,
    label: str | None = None,
    entity: str | None = None,
    id: str | None = None,  # noqa: A002 - the document's attribute name
    until: str | None = None,
    timestamp: str | None = None,
    crs: str = WGS84,
) -> bytes:
    """The ``rcspushlocation+xml`` body for a location (see :class:`LocationPush`)."""
    return LocationPush(
        entity=entity,
        id=id,
        label=label,
        latitude=latitude,
        longitude=longitude,
        radius=radius,
        until=until,
        timestamp=timestamp,
        crs=crs,
    ).to_xml()


# --------------------------------------------------------------------------- parsing


def _find(parent: Element, name: str) -> Element | None:
    return next((el for el in parent.iter() if local_name(el.tag) == name), None)


def _attr(el: Element | None, name: str) -> str | None:
    """Attribute ``name`` in any namespace (``rpid:until`` or plain ``until``)."""
    if el is None:
        return None
    return next((v for k, v in el.attrib.items() if local_name(k) == name), None)


def _text(el: Element | None) -> str | None:
    return None if el is None else (el.text or "").strip()


def _float(text: str, where: str) -> float:
    value = text.strip()
    if not _DECIMAL.match(value) or len(value) > 64:
        raise PayloadParseError(f"expected a decimal number, found {value!r}", where=where)
    result = float(value)
    if not math.isfinite(result):
        raise PayloadParseError("number out of range", where=where)
    return result


def _crs(srs_name: str | None) -> str:
    if srs_name is None or srs_name == WGS84_SRS:
        return WGS84
    if re.search(r"[:#]4326\Z", srs_name) or srs_name.lower() == WGS84:
        return WGS84
    return srs_name


def parse_geopush(data: bytes | str) -> LocationPush:
    """Parse a geolocation push document.

    Raises:
        PayloadParseError: when the XML is unsafe or malformed, the root is not
            ``rcsenvelope``, or there is no readable position.
    """
    root = _xml.parse(data)
    if local_name(root.tag) not in ("rcsenvelope", "rcsenveloppe"):
        raise PayloadParseError(f"root element {root.tag!r} is not rcsenvelope", where="/")
    push = _find(root, "rcspushlocation")
    if push is None:
        raise PayloadParseError("no rcspushlocation element", where="/rcsenvelope")
    pos = _find(push, "pos")
    if pos is None:
        raise PayloadParseError("no gml:pos element", where="/rcsenvelope/rcspushlocation")
    where = "/rcsenvelope/rcspushlocation//gml:pos"
    coordinates = (pos.text or "").split()
    if len(coordinates) not in (2, 3):
        raise PayloadParseError("gml:pos must hold latitude and longitude", where=where)
    shape = _find(push, "Circle")
    if shape is None:
        shape = _find(push, "Point")
    radius = _find(push, "radius")
    until = _attr(_find(push, "place-type"), "until")
    if until is None:
        until = _attr(_find(push, "time-offset"), "until")
    if until is None:
        until = _text(_find(push, "retention-expiry"))
    return LocationPush(
        entity=root.get("entity"),
        id=push.get("id"),
        label=push.get("label"),
        latitude=_float(coordinates[0], where),
        longitude=_float(coordinates[1], where),
        radius=None if radius is None else _float(radius.text or "", f"{where}/../gs:radius"),
        until=until,
        timestamp=_text(_find(push, "timestamp")),
        crs=_crs(_attr(shape, "srsName")),
    )


def parse_geo_uri(text: str) -> LocationPush:
    """Parse the ``geo:`` text fallback (RFC 5870 plus the ``rcs-l`` label parameter).

    Raises:
        PayloadParseError: when the text is not a ``geo:`` URI with latitude and longitude.
    """
    value = text.strip()
    if len(value) > MAX_GEO_URI:
        raise PayloadParseError(f"geo URI longer than {MAX_GEO_URI} characters")
    if value[:4].lower() != "geo:":
        raise PayloadParseError("not a geo: URI", where=0)
    coordinates, _, params = value[4:].partition(";")
    numbers = coordinates.split(",")
    if len(numbers) not in (2, 3):
        raise PayloadParseError("geo URI needs latitude,longitude", where=4)
    latitude, longitude = _float(numbers[0], "latitude"), _float(numbers[1], "longitude")
    crs, radius, label = WGS84, None, None
    for param in params.split(";") if params else ():
        key, _, raw = param.partition("=")
        try:
            decoded = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise PayloadParseError("parameter is not UTF-8 once decoded", where=key) from None
        key = key.strip().lower()
        if key == "crs":
            crs = decoded.lower()
        elif key == "u":
            radius = _float(decoded, "u")
        elif key == "rcs-l":
            label = decoded
    return LocationPush(latitude=latitude, longitude=longitude, radius=radius, label=label, crs=crs)
