"""Locust users for bench/load.py: a morning at a broker (run by `load.run`, never on its own against a real host).

Weights: clients answering the questionnaire 8, managers 7, compliance 3, supervisors 2 (of 20 users: 8, 7, 3, 2).
Each user signs in once on start through the real form and then runs its tasks with a think time of
`BENCH_LOAD_WAIT` seconds ("min,max", default "0.5,2"). The statistics start when the last user has signed in
and the run stops `BENCH_LOAD_WINDOW` seconds later (Locust's --run-time is only a safety cap). The flows are
bench/load.py's, so the single-user times there and these come from the same requests, under the same names.
"""
from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import gevent
from gevent.event import Event
from locust import HttpUser, between, events, task
from locust.exception import StopUser

from bench import load

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
WAIT = tuple(float(x) for x in os.environ.get("BENCH_LOAD_WAIT", "0.5,2").split(","))
WINDOW = float(os.environ.get("BENCH_LOAD_WINDOW", "60"))
EVALUATIONS = itertools.count()
SIGN_INS = {"done": 0, "failed": 0}
ALL_SIGNED_IN = Event()


class LocustSession(load.CookieSession):
    """The flows' session over a Locust HttpSession: each answer judged, a wrong one recorded as a failure."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, method, path, name, data, headers, status, check) -> tuple[str, str]:
        with self.client.request(method, path, name=name, data=data, headers=headers, allow_redirects=False,
                                 catch_response=True) as response:
            self.client.cookies.clear()
            problem = self.verdict(response, method, path, status, check)
            if problem:
                response.failure(problem)
            else:
                response.success()
            location, body = response.headers.get("Location", ""), response.text
        if problem:
            raise load.FlowError(problem)
        return location, body


@events.quitting.add_listener
def _sign_ins(environment, **_kwargs) -> None:
    """Leave the sign-in count beside the statistics (the statistics were reset after the sign-ins)."""
    Path(os.environ["BENCH_LOAD_PLAN"]).with_name("sign_ins.json").write_text(json.dumps(SIGN_INS))


class PortalUser(HttpUser):
    abstract = True
    username = ""
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        """Sign in once; the statistics start afresh when the last user has signed in (scrypt is not the load)."""
        self.rng = random.Random()
        self.session = LocustSession(self.client)
        failed = False
        try:
            load.sign_in(self.session, self.username)
        except load.FlowError:
            failed = True
            SIGN_INS["failed"] += 1
        SIGN_INS["done"] += 1
        if SIGN_INS["done"] >= self.environment.parsed_options.num_users and not ALL_SIGNED_IN.is_set():
            self.environment.runner.stats.reset_all()
            ALL_SIGNED_IN.set()
            gevent.spawn_later(WINDOW, self.environment.runner.quit)  # the measured window, exactly
        ALL_SIGNED_IN.wait(timeout=120)
        if failed:
            raise StopUser()

    def flow(self, action, *args) -> None:
        try:
            action(self.session, *args)
        except load.FlowError:
            pass  # already recorded as a failure of the request that went wrong


class ClientUser(PortalUser):
    """A client answering the risk questionnaire through the web form, all steps, review and submit."""

    weight = 8
    username = "client"

    @task
    def questionnaire(self) -> None:
        self.flow(load.questionnaire, self.rng)


class ManagerUser(PortalUser):
    """A relationship manager browsing the book (sorted, filtered, paged) and logging follow-ups."""

    weight = 7
    username = "rm"

    @task(3)
    def book(self) -> None:
        self.flow(load.browse_book, PLAN, self.rng)

    @task(1)
    def followup(self) -> None:
        self.flow(load.log_followup, PLAN, self.rng)


class SupervisorUser(PortalUser):
    """A supervisor scoring the open cycle; each such user keeps to its own evaluation (no edit conflicts)."""

    weight = 2
    username = "supervisor"

    def on_start(self) -> None:
        super().on_start()
        self.number = PLAN["evaluations"][next(EVALUATIONS) % len(PLAN["evaluations"])]

    @task
    def score(self) -> None:
        self.flow(load.score, PLAN, self.number, self.rng)


class ComplianceUser(PortalUser):
    """Compliance opening the matrix (with filters), drilling into a cell, exporting CSV and XLSX."""

    weight = 3
    username = "compliance"

    @task(4)
    def matrix(self) -> None:
        self.flow(load.matrix, PLAN, self.rng)

    @task(2)
    def drill_down(self) -> None:
        self.flow(load.drill_down, PLAN, self.rng)

    @task(1)
    def export_csv(self) -> None:
        self.flow(load.export, "csv")

    @task(1)
    def export_xlsx(self) -> None:
        self.flow(load.export, "xlsx")
