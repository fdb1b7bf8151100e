"""Every write to a case goes through these functions (keyword-only ``actor``; None = the system).

Each one locks the case, checks the actor's permission and the transition table, changes the case, and
appends a CaseEvent in the same transaction (civicgrid.cases.actions.base.case_step).
"""

from civicgrid.cases.actions.base import CaseConflict
from civicgrid.cases.actions.closing import do_archive, do_force_close, do_reopen, do_revisit, do_verify
from civicgrid.cases.actions.dispatching import (
    do_accept,
    do_approve_return,
    do_assign_down,
    do_assist_accept,
    do_assist_reply,
    do_assist_return,
    do_dispatch,
    do_escalate,
    do_reject_return,
    do_request_return,
)
from civicgrid.cases.actions.handling import (
    do_await_resident,
    do_complete_milestone,
    do_decide_extension,
    do_reply,
    do_request_extension,
    do_resident_responded,
    do_resume,
    do_supervise,
    do_suspend,
    do_urge,
)
from civicgrid.cases.actions.intake import PhotoUpload, do_create_case, do_reveal_reporter_phone
from civicgrid.cases.actions.registration import (
    do_answer_directly,
    do_merge,
    do_register,
    do_request_confirmation,
    do_split,
    do_void,
    do_withdraw,
)

__all__ = [
    "CaseConflict",
    "PhotoUpload",
    "do_accept",
    "do_answer_directly",
    "do_approve_return",
    "do_archive",
    "do_assign_down",
    "do_assist_accept",
    "do_assist_reply",
    "do_assist_return",
    "do_await_resident",
    "do_complete_milestone",
    "do_create_case",
    "do_decide_extension",
    "do_dispatch",
    "do_escalate",
    "do_force_close",
    "do_merge",
    "do_register",
    "do_reject_return",
    "do_reopen",
    "do_reply",
    "do_request_confirmation",
    "do_request_extension",
    "do_request_return",
    "do_resident_responded",
    "do_resume",
    "do_reveal_reporter_phone",
    "do_revisit",
    "do_split",
    "do_supervise",
    "do_suspend",
    "do_urge",
    "do_verify",
    "do_void",
    "do_withdraw",
]
