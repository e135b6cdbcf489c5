"""The severity rule: how urgent a flagged flow, a finding or an incident is.

One rule for the flows table, the reports, the EVE alerts and the incidents:

1. The family sets the base (:data:`BASE`):

   - **high**: the attacker is in, or in the middle: ``exploit``, ``backdoor``, ``botnet``,
     ``ransomware``, ``mitm``, ``infiltration``, ``worm``, ``shellcode``, ``u2r``;
   - **medium**: an attack on a service that may succeed or take it down: ``brute_force``,
     ``web_attack``, ``dos``, ``ddos``, ``r2l``;
   - **low**: looking around, or no family at all: ``scan``, ``analysis``, ``fuzzing``,
     ``generic``, and :data:`~ids_desktop.core.model.verdicts.UNUSUAL` flows (unlike the
     training data, with no family the model is sure of).

2. A model alert whose calibrated confidence in its family is under
   :data:`CONFIDENT` (0.9) is one step lower (never below low). Detector findings keep their
   base: each is a documented rule with its numbers.

3. A flow flagged by several sources takes the highest of their severities.
"""

from __future__ import annotations

from collections.abc import Iterable

HIGH, MEDIUM, LOW = "high", "medium", "low"
#: Severities from the most urgent down.
ORDER: tuple[str, ...] = (HIGH, MEDIUM, LOW)
BASE: dict[str, str] = {
    **dict.fromkeys(
        (
            "exploit",
            "backdoor",
            "botnet",
            "ransomware",
            "mitm",
            "infiltration",
            "worm",
            "shellcode",
            "u2r",
        ),
        HIGH,
    ),
    **dict.fromkeys(("brute_force", "web_attack", "dos", "ddos", "r2l"), MEDIUM),
}
#: A model alert at or above this calibrated confidence keeps its family's base severity.
CONFIDENT = 0.9
#: Suricata's numbering (1 is the most severe), for the EVE alerts.
SURICATA = {HIGH: 1, MEDIUM: 2, LOW: 3}


def of_family(family: str) -> str:
    """The base severity of ``family`` (step 1)."""
    return BASE.get(family, LOW)


def of_model_alert(family: str, confidence: float) -> str:
    """A model alert's severity (steps 1 and 2)."""
    base = of_family(family)
    if confidence >= CONFIDENT or base == LOW:
        return base
    return ORDER[ORDER.index(base) + 1]


def highest(severities: Iterable[str]) -> str:
    """The most urgent of ``severities`` (step 3); low when there are none."""
    given = set(severities)
    return next((s for s in ORDER if s in given), LOW)
