"""Document states and the transitions allowed between them, written once.

``received → validated → normalised → ready → forwarded`` is the happy path; ``pending`` waits for
counterparts (correlation) or for the rest of a set (a held container); ``split`` is a container whose parts
flow on their own; ``rejected`` is the queue an operator works, and operator actions lead from there to
``received`` (retry), ``ready`` (retry of a dead letter), ``replaced`` and ``discarded`` (which an operator may
undo, back to ``rejected``). ``duplicate`` is
written at intake and never left; ``attached`` (a ZIP's PDF or image) and ``recorded`` (a cancellation notice
with nothing to reverse) are final too. The store's ``set_state`` refuses anything not in ``ALLOWED`` with
``TransitionRefused``: a refused transition is a bug in the caller, caught before it is audited as history.
"""

from __future__ import annotations

from enum import StrEnum

from gateway.errors import TransitionRefused


class State(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    NORMALISED = "normalised"
    PENDING = "pending"
    READY = "ready"
    FORWARDED = "forwarded"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DISCARDED = "discarded"
    REPLACED = "replaced"
    SPLIT = "split"
    ATTACHED = "attached"  # a ZIP's PDF or image: kept and linked, never forwarded
    RECORDED = "recorded"  # taken note of, nothing to forward (a cancellation of an invoice never forwarded)


S = State
#: from → the states it may go to. A step repeated after a crash (normalised again, a group verdict given
#: again to a member it rejected, a second dead letter) is a transition to the same state.
ALLOWED: dict[State, frozenset[State]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.REJECTED, S.ATTACHED}),
    S.VALIDATED: frozenset({S.NORMALISED, S.SPLIT, S.PENDING, S.REJECTED}),
    S.NORMALISED: frozenset({S.NORMALISED, S.PENDING, S.READY, S.REJECTED, S.RECORDED}),
    # pending again: an IMMEX discharge that waited for its original goes on to wait for its COVEs
    S.PENDING: frozenset({S.PENDING, S.READY, S.REJECTED, S.SPLIT}),
    S.READY: frozenset({S.FORWARDED, S.REJECTED}),
    S.REJECTED: frozenset({S.RECEIVED, S.READY, S.REJECTED, S.REPLACED, S.DISCARDED}),
    S.FORWARDED: frozenset(),
    S.DUPLICATE: frozenset(),
    S.DISCARDED: frozenset({S.REJECTED}),  # an operator's discard undone (audited, with a reason)
    S.REPLACED: frozenset(),
    S.SPLIT: frozenset(),
    S.ATTACHED: frozenset(),
    S.RECORDED: frozenset(),
}
#: every state, in the order of the flow (listings, filters, metrics)
STATES: tuple[str, ...] = tuple(s.value for s in State)
#: states the pipeline still has to carry forward
IN_PROGRESS: tuple[str, ...] = (S.RECEIVED.value, S.VALIDATED.value, S.NORMALISED.value)
#: states no one leaves
FINAL: tuple[str, ...] = tuple(s.value for s, to in ALLOWED.items() if not to)


def check_transition(document_id: str, from_state: str, to_state: str) -> State:
    """The target state, or ``TransitionRefused`` naming the document and both states."""
    try:
        source, target = State(from_state), State(to_state)
    except ValueError:
        raise TransitionRefused(f"document {document_id}: unknown state in {from_state} → {to_state}") from None
    if target not in ALLOWED[source]:
        raise TransitionRefused(f"document {document_id}: {source} → {target} is not an allowed transition")
    return target
