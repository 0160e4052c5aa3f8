"""The domain's pure rules: standard library and ``decimal`` only; no Flask, no database, no operations.

Models, forms, operations and pages import from here; nothing here imports from them. Where each rule is:

- vocabulary.py: the words: grades C1–C5, risk classes and the class of each grade, product risk levels
  R1–R5 and "Cn takes up to Rn" (``max_level_of``), investor categories, confirmation methods, asset
  tiers 1–4, manager levels junior → principal.
- calendar.py: the business time zone (Asia/Shanghai), the business day and its UTC bounds, month
  arithmetic (``add_months``, ``months_between``) and whole years (ages, experience).
- questionnaire.py: the risk questionnaire as data, its validation, scoring, bands, caps, the age answer
  and the product levels a result allows.
- profile.py: risk-profile validity (valid / expiring / expired / none, 30 days), the grade-raise window,
  and a questionnaire version's validity and retake limits.
- suitability.py: may this client take this product (allowed / warning / refused) and the extra-care
  prompt for clients aged 65 and over on R4–R5.
- investor.py: the professional-investor criteria (assets, income, experience).
- tiering.py: the tier thresholds, the 12-month contribution window, the tier a client reaches, and the
  package of each tier × risk-class cell.
- followup.py: follow-up grades A–E and their cadence.
- credit.py: credit-report screening.
- evaluation.py: evaluation dimensions, weights, rating bands, KPI attainment and level duties.
- promotion.py: promotion and demotion rules and the engine that explains its recommendation.
- identity.py: ID numbers, phone numbers, e-mail addresses and the cells of onboarding files.
- passwords.py: the password policy. numbers.py: the bounds of the numbers the database holds.
"""
