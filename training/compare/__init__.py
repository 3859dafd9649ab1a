"""Model-vs-human comparison: any two ranking sources of a project, prompt by prompt.

* ``metrics``: the pure figures (tau-b, top-1 agreement, per-prompt metrics, bootstrap CIs); no ORM.
* ``sources``: the ranking sources of a project (consensus, annotators, evaluated models) and their rankings.
* ``selectors``: the comparison of two sources (rows, aggregates, cached) and one prompt across sources.
* ``exports``: the rows and figures as the JSON/CSV exports and ``manage.py compare`` give them.
* ``services``: requesting "evaluate job J on project P" (an ``EvaluationRequest`` row) and running it.
* ``tasks``: the dramatiq actor that runs a request on the training worker.
* ``views`` / ``urls``: the pages (namespace ``compare``), reviewers and admins only.
"""
