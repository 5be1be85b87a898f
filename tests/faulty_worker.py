"""``monitor`` with rules that raise for some stores: ``python tests/faulty_worker.py worker [options]``.

Used by ``tests/integration/test_rule_faults.py`` to prove that a rule raising for one message (a bug, an input the
rules never expected) is dead-lettered as RULE_FAILED and the worker goes on (``monitor/worker/agents/guard.py``).

The rule functions are replaced where the agents imported them (``from monitor.domain... import ...`` binds the name
in the agent module, so that is the name the agent calls):

- store ``rule-breaker``: every order event (``apply_order_event``), every review (``hold_store_review``) and its
  deadline judgment (``advance``) raise ``RuntimeError("injected fault")``. Its state is never saved (applying its
  first event fails), so its deadlines are never judged: ``advance`` is replaced for it for completeness only;
- store ``deadline-breaker``: its events and reviews are taken, but judging its deadlines (``advance``) and its
  held reviews (``judge_store_until``) raises: the guards around the judgments, not around one input event.

Every other store runs the real rules. Importing the agents below builds the app from the ``MONITOR_*``
environment; ``run_worker`` then asks for the app of the same settings and gets that one: this launcher sets
nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# the monitor package next to this file (a scratch checkout runs its own code, as `python -m monitor.cli` run from
# its root would), whatever package the virtualenv was installed from
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import monitor.worker.agents.store_reviews as store_reviews_agent  # noqa: E402
import monitor.worker.agents.stores as stores_agent  # noqa: E402
from monitor.cli import main  # noqa: E402

FAULT = "injected fault"
RULE_BREAKER = "rule-breaker"  # every rule on its input raises
DEADLINE_BREAKER = "deadline-breaker"  # its input is taken; judging it later raises


def _raising_for(real: Any, store_ids: set[str]) -> Any:
    """``real``, except that it raises for a state (its first argument) of one of ``store_ids``."""
    def rule(state: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(state, "store_id", None) in store_ids:
            raise RuntimeError(FAULT)
        return real(state, *args, **kwargs)

    rule.__name__ = rule.__qualname__ = f"faulty_{real.__name__}"
    return rule


def install_faults() -> None:
    stores_agent.apply_order_event = _raising_for(stores_agent.apply_order_event, {RULE_BREAKER})
    stores_agent.advance = _raising_for(stores_agent.advance, {RULE_BREAKER, DEADLINE_BREAKER})
    # NegativityState.store_id: the store of a store's review state (None for a city's)
    store_reviews_agent.hold_store_review = _raising_for(store_reviews_agent.hold_store_review, {RULE_BREAKER})
    store_reviews_agent.judge_store_until = _raising_for(store_reviews_agent.judge_store_until,
                                                         {RULE_BREAKER, DEADLINE_BREAKER})


if __name__ == "__main__":
    install_faults()
    sys.exit(main(sys.argv[1:]))
