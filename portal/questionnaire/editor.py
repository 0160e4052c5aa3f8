"""The questionnaire editor as a form: a definition as rows of fields, and the fields back as a definition.

`fields_of(definition)` gives the editable structure (every value as the text a field shows);
`read_form(form)` reads the same structure back from a posted form, and `apply(structure, op)` adds,
removes or moves a question, option, cap, consistency check or condition. `build(structure)` turns it
into the definition dict the rules check, with an error message per field that names the question and
option at fault, in the reader's language. The JSON view stays for import and export.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _

from portal.rules.questionnaire import GROUPS
from portal.rules.vocabulary import GRADES

Fields = dict[str, Any]

_INT = re.compile(r"-?\d{1,6}")


def _text(value: Any) -> dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {"zh": str(value.get("zh_CN", "")), "en": str(value.get("en", ""))}


def fields_of(definition: dict[str, Any]) -> Fields:
    """The editable structure of a stored definition."""
    return {
        "title": _text(definition.get("title")),
        "questions": [{"id": str(q.get("id", "")), "group": str(q.get("group", "")), **_text(q.get("text")),
                       "options": [{"id": str(o.get("id", "")), **_text(o.get("text")),
                                    "points": str(o.get("points", "")), "min_age": str(o.get("min_age", "")),
                                    "max_age": str(o.get("max_age", ""))} for o in q.get("options", [])]}
                      for q in definition.get("questions", [])],
        "bands": [{"grade": str(b.get("grade", "")), "min": str(b.get("min", "")), "max": str(b.get("max", ""))}
                  for b in definition.get("bands", [])],
        "caps": [{"id": str(c.get("id", "")), "question": str(c.get("when", {}).get("question", "")),
                  "option": str(c.get("when", {}).get("option", "")), "max_grade": str(c.get("max_grade", "")),
                  "lowest": bool(c.get("lowest_category")), **_text(c.get("text"))}
                 for c in definition.get("caps", [])],
        "checks": [{"id": str(c.get("id", "")), **_text(c.get("text")),
                    "when": [{"question": str(w.get("question", "")), "option": str(w.get("option", ""))}
                             for w in c.get("when_all", [])]}
                   for c in definition.get("consistency_checks", [])],
    }


def _blank_option() -> dict[str, str]:
    return {"id": "", "zh": "", "en": "", "points": "", "min_age": "", "max_age": ""}


def _count(form, name: str, limit: int) -> int:
    raw = (form.get(name) or "").strip()
    return min(int(raw), limit) if raw.isdigit() else 0


def read_form(form) -> Fields:
    """The structure as posted; the hidden counts say how many rows of each kind the page held."""
    get = lambda name: (form.get(name) or "").strip()  # noqa: E731
    questions = []
    for i in range(_count(form, "questions", 200)):
        p = f"q-{i}"
        questions.append({"id": get(f"{p}-id"), "group": get(f"{p}-group"), "zh": get(f"{p}-zh"),
                          "en": get(f"{p}-en"),
                          "options": [{"id": get(f"{p}-o-{j}-id"), "zh": get(f"{p}-o-{j}-zh"),
                                       "en": get(f"{p}-o-{j}-en"), "points": get(f"{p}-o-{j}-points"),
                                       "min_age": get(f"{p}-o-{j}-min_age"), "max_age": get(f"{p}-o-{j}-max_age")}
                                      for j in range(_count(form, f"{p}-options", 50))]})
    return {
        "title": {"zh": get("title-zh"), "en": get("title-en")},
        "questions": questions,
        "bands": [{"grade": grade, "min": get(f"band-{k}-min"), "max": get(f"band-{k}-max")}
                  for k, grade in enumerate(GRADES)],
        "caps": [{"id": get(f"cap-{c}-id"), "question": get(f"cap-{c}-question"), "option": get(f"cap-{c}-option"),
                  "max_grade": get(f"cap-{c}-max_grade"), "lowest": form.get(f"cap-{c}-lowest") == "y",
                  "zh": get(f"cap-{c}-zh"), "en": get(f"cap-{c}-en")} for c in range(_count(form, "caps", 50))],
        "checks": [{"id": get(f"check-{c}-id"), "zh": get(f"check-{c}-zh"), "en": get(f"check-{c}-en"),
                    "when": [{"question": get(f"check-{c}-w-{k}-question"), "option": get(f"check-{c}-w-{k}-option")}
                             for k in range(_count(form, f"check-{c}-conditions", 20))]}
                   for c in range(_count(form, "checks", 50))],
    }


def _move(items: list, index: int, step: int) -> None:
    target = index + step
    if 0 <= index < len(items) and 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def apply(fields: Fields, op: str) -> bool:
    """Carry out one add / remove / move button (`op`, e.g. `remove_option-3-1`); False when it is none."""
    name, *numbers = op.split("-")
    if not all(n.isdigit() for n in numbers):
        return False
    at = [int(n) for n in numbers]
    questions, caps, checks = fields["questions"], fields["caps"], fields["checks"]

    def within(items, i):
        return 0 <= i < len(items)

    if name == "add_question":
        questions.append({"id": "", "group": GROUPS[0], "zh": "", "en": "",
                          "options": [_blank_option() for _ in range(2)]})
    elif name == "remove_question" and len(at) == 1 and within(questions, at[0]):
        questions.pop(at[0])
    elif name in ("question_up", "question_down") and len(at) == 1:
        _move(questions, at[0], -1 if name == "question_up" else 1)
    elif name == "add_option" and len(at) == 1 and within(questions, at[0]):
        questions[at[0]]["options"].append(_blank_option())
    elif name == "remove_option" and len(at) == 2 and within(questions, at[0]) \
            and within(questions[at[0]]["options"], at[1]):
        questions[at[0]]["options"].pop(at[1])
    elif name in ("option_up", "option_down") and len(at) == 2 and within(questions, at[0]):
        _move(questions[at[0]]["options"], at[1], -1 if name == "option_up" else 1)
    elif name == "add_cap":
        caps.append({"id": "", "question": "", "option": "", "max_grade": GRADES[0], "lowest": False,
                     "zh": "", "en": ""})
    elif name == "remove_cap" and len(at) == 1 and within(caps, at[0]):
        caps.pop(at[0])
    elif name == "add_check":
        checks.append({"id": "", "zh": "", "en": "", "when": [{"question": "", "option": ""}]})
    elif name == "remove_check" and len(at) == 1 and within(checks, at[0]):
        checks.pop(at[0])
    elif name == "add_condition" and len(at) == 1 and within(checks, at[0]):
        checks[at[0]]["when"].append({"question": "", "option": ""})
    elif name == "remove_condition" and len(at) == 2 and within(checks, at[0]) \
            and within(checks[at[0]]["when"], at[1]):
        checks[at[0]]["when"].pop(at[1])
    else:
        return False
    return True


def _letter(j: int) -> str:
    return chr(ord("A") + j) if j < 26 else str(j + 1)


def build(fields: Fields) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition dict (keys in the shipped file's order) and the field errors, each naming its place."""
    errors: dict[str, str] = {}

    def required(name: str, value: str, where: str) -> str:
        if not value:
            errors[name] = _("%(where)s: this field is required.", where=where)
        return value

    def whole(name: str, value: str, where: str) -> int | None:
        if not _INT.fullmatch(value or ""):
            errors[name] = _("%(where)s: enter a whole number.", where=where)
            return None
        return int(value)

    def bilingual(prefix: str, item: dict, where: str) -> dict[str, str]:
        return {"zh_CN": required(f"{prefix}-zh", item["zh"], _("%(where)s, Chinese text", where=where)),
                "en": required(f"{prefix}-en", item["en"], _("%(where)s, English text", where=where))}

    title = bilingual("title", fields["title"], _("Title"))
    option_ids: dict[str, set[str]] = {}
    questions = []
    for i, q in enumerate(fields["questions"]):
        p, where = f"q-{i}", _("Question %(n)d", n=i + 1)
        qid = required(f"{p}-id", q["id"], _("%(where)s, identifier", where=where))
        if q["group"] not in GROUPS:
            errors[f"{p}-group"] = _("%(where)s: choose a group.", where=where)
        options, previous = [], None
        for j, o in enumerate(q["options"]):
            op, owhere = f"{p}-o-{j}", _("Question %(n)d, option %(letter)s", n=i + 1, letter=_letter(j))
            points = whole(f"{op}-points", o["points"], _("%(where)s, points", where=owhere))
            if points is not None and previous is not None and points <= previous:
                errors[f"{op}-points"] = _("%(where)s: points must be higher than the option above (%(above)d).",
                                           where=owhere, above=previous)
            previous = points if points is not None else previous
            option = {"id": required(f"{op}-id", o["id"], _("%(where)s, identifier", where=owhere)),
                      "text": bilingual(op, o, owhere), "points": points}
            # An age question's options carry the ages they stand for: the answer is read from the birth date.
            for bound, label in (("min_age", _("%(where)s, from age", where=owhere)),
                                 ("max_age", _("%(where)s, to age", where=owhere))):
                if o.get(bound):
                    value = whole(f"{op}-{bound}", o[bound], label)
                    if value is not None:
                        option[bound] = value
            options.append(option)
        if len(q["options"]) < 2:
            errors[f"{p}-options"] = _("%(where)s: give at least two options.", where=where)
        option_ids.setdefault(qid, set()).update(o["id"] for o in options)
        questions.append({"id": qid, "group": q["group"], "text": bilingual(p, q, where), "options": options})
    if len(option_ids) != len(fields["questions"]):
        errors["questions"] = _("Each question needs its own identifier.")

    def condition(prefix: str, item: dict, where: str) -> dict[str, str]:
        if item["question"] not in option_ids:
            errors[f"{prefix}-question"] = _("%(where)s: no question has the identifier %(id)s.",
                                             where=where, id=item["question"] or "—")
        elif item["option"] not in option_ids[item["question"]]:
            errors[f"{prefix}-option"] = _("%(where)s: question %(question)s has no option %(option)s.", where=where,
                                           question=item["question"], option=item["option"] or "—")
        return {"question": item["question"], "option": item["option"]}

    bands = []
    for k, b in enumerate(fields["bands"]):
        where = _("Band %(grade)s", grade=b["grade"])
        bands.append({"grade": b["grade"], "min": whole(f"band-{k}-min", b["min"], _("%(where)s, from", where=where)),
                      "max": whole(f"band-{k}-max", b["max"], _("%(where)s, to", where=where))})
    caps = []
    for c, cap in enumerate(fields["caps"]):
        p, where = f"cap-{c}", _("Cap %(n)d", n=c + 1)
        if cap["max_grade"] not in GRADES:
            errors[f"{p}-max_grade"] = _("%(where)s: choose a grade.", where=where)
        caps.append({"id": required(f"{p}-id", cap["id"], _("%(where)s, identifier", where=where)),
                     "when": condition(p, cap, where), "max_grade": cap["max_grade"],
                     "lowest_category": bool(cap["lowest"]), "text": bilingual(p, cap, where)})
    checks = []
    for c, check in enumerate(fields["checks"]):
        p, where = f"check-{c}", _("Consistency check %(n)d", n=c + 1)
        if not check["when"]:
            errors[f"{p}-conditions"] = _("%(where)s: give at least one condition.", where=where)
        checks.append({"id": required(f"{p}-id", check["id"], _("%(where)s, identifier", where=where)),
                       "when_all": [condition(f"{p}-w-{k}", w, _("%(where)s, condition %(k)d", where=where, k=k + 1))
                                    for k, w in enumerate(check["when"])],
                       "text": bilingual(p, check, where)})
    definition = {"title": title, "questions": questions, "bands": bands, "caps": caps, "consistency_checks": checks}
    return definition, errors
