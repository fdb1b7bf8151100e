"""Default time limits and escalation rules, so a fresh installation times cases from the first day.

They are ordinary rows: the admin edits, deactivates or overrides them per category. Sources
(../shared/reference/workflow.md §5): 山东省政务服务热线管理办法 (reply within 5 working days, return within
2 working days, extensions normally at most 10 working days); a city bureau's 12345 rules (consultations
within 3 working days; revisit the day after the reply); 24-hour acceptance (签收) as a common floor indicator.
Urgent and critical cases use continuous hours (紧急工作时). Each is a choice to be confirmed locally.
"""

from decimal import Decimal

from django.db import migrations

LIMITS = [
    # stage, nature, handling_class, urgency, value, unit, label
    ("register", "", "", "", "2", "work_hour", "立案"),
    ("dispatch", "", "", "", "2", "work_hour", "派单"),
    ("accept", "", "", "", "1", "work_day", "签收"),
    ("accept", "", "", "critical", "1", "urgent_hour", "签收"),
    ("return_window", "", "", "", "2", "work_day", "退单期限"),
    ("handle", "", "", "", "5", "work_day", "办理"),
    ("handle", "consult", "", "", "3", "work_day", "办理"),
    ("handle", "", "instant", "", "1", "work_day", "办理"),
    ("handle", "", "", "urgent", "24", "urgent_hour", "办理"),
    ("handle", "", "", "critical", "2", "urgent_hour", "办理"),
    ("verify", "", "", "", "1", "work_day", "核查"),
    ("revisit", "", "", "", "1", "work_day", "回访"),
    ("extension_cap", "", "", "", "10", "work_day", "延期上限"),
]
RULES = [
    ("dispatch", "overdue", "urge"),
    ("accept", "warning", "urge"),
    ("accept", "overdue", "urge"),
    ("handle", "warning", "urge"),
    ("handle", "overdue", "supervise"),
    ("handle", "serious", "escalate"),
]


def seed(apps, schema_editor):
    TimeLimit = apps.get_model("cases", "TimeLimit")
    EscalationRule = apps.get_model("cases", "EscalationRule")
    if not TimeLimit.objects.exists():
        for stage, nature, handling_class, urgency, value, unit, label in LIMITS:
            TimeLimit.objects.create(
                stage=stage,
                nature=nature,
                handling_class=handling_class,
                urgency=urgency,
                value=Decimal(value),
                unit=unit,
                label=label,
            )
    if not EscalationRule.objects.exists():
        for stage, threshold, action in RULES:
            EscalationRule.objects.create(stage=stage, threshold=threshold, action=action)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
