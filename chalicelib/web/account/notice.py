"""The notice of a scheduled deletion, shown by every page a signed-in person lands on
(``_deletion_notice.html``): kept apart from the pages so any of them can import it."""

from __future__ import annotations


def deletion_notice(profile: dict[str, object]) -> str:
    """The due day of the profile's scheduled deletion as the pages write dates
    (dd/mm/yyyy), or "" when none is scheduled."""
    due = profile.get("deletion_due")
    if not isinstance(due, str) or len(due) < 10:
        return ""
    return f"{due[8:10]}/{due[5:7]}/{due[:4]}"
