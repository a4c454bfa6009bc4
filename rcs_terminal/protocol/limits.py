"""Size limits applied to everything read from the network.

Oversized input is refused with a :class:`~rcs_terminal.errors.ParseError` before it is
parsed, so a hostile peer cannot make the emulator allocate without bound. The values are
generous for RCS traffic: a pager-mode MESSAGE is at most a few KB, chatbot cards are well
under 64 KB, and MSRP chunks are conventionally at most 2 KB of payload (RFC 4975 §7.1.1
recommends chunks of 2048 bytes) though bigger chunks must be accepted.
"""

from __future__ import annotations

MAX_SIP_MESSAGE = 256 * 1024
"""Largest SIP message (start line, headers and body) accepted, in bytes."""

MAX_SIP_HEADERS = 256
"""Most header fields accepted in one SIP message."""

MAX_MSRP_MESSAGE = 1024 * 1024
"""Largest MSRP transaction (one chunk with its headers) accepted, in bytes."""

MAX_MSRP_REASSEMBLY = 16 * 1024 * 1024
"""Largest complete MSRP message reassembled from chunks, in bytes."""

MAX_CPIM = 1024 * 1024
"""Largest message/cpim body accepted, in bytes."""

MAX_XML = 256 * 1024
"""Largest XML document from the network (IMDN, is-composing, provisioning...)."""

MAX_JSON = 1024 * 1024
"""Largest chatbot JSON payload accepted, in bytes."""

MAX_MULTIPART_PARTS = 32
"""Most parts accepted in one multipart body."""
