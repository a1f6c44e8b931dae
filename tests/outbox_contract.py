"""The outbox side of the billing contract as docs/billing-sync.md states it: the message kinds and each kind's
payload, read from the document's examples, so that the document, the portal and the demo billing system are
held to one text."""

import json
import re
from functools import cache
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "billing-sync.md"


@cache
def documented_examples() -> dict[str, dict]:
    """kind -> the example payload under its '### `kind`' heading in the outbox section."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## What the portal sends back: the outbox") : text.index("## Versioning")]
    examples = {}
    for match in re.finditer(r"^### `(\w+)`\n(.*?)```json\n(.*?)```", section, flags=re.MULTILINE | re.DOTALL):
        examples[match.group(1)] = json.loads(match.group(3))
    return examples


def contract_breaches(kind: str, payload: dict) -> list[str]:
    """What in a message differs from the documented contract: an unknown kind, missing or undocumented keys."""
    examples = documented_examples()
    if kind not in examples:
        return [f"kind {kind!r} is not documented"]
    documented, sent = set(examples[kind]), set(payload)
    return [f"{kind}: missing {sorted(documented - sent)}"] * bool(documented - sent) + [
        f"{kind}: undocumented {sorted(sent - documented)}"
    ] * bool(sent - documented)
