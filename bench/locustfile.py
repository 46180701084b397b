"""Locust scenario: a provincial office's mixed day against the API (started by `bench/loadrun.py`, not alone).

Officers page the roster with filters, open enterprises, search by name or USCC fragment, list
titles (grants) and reminders (the deadlines report), and now and then export a district's list.
Every request carries the province officer's API token (BENCH_TOKEN). Anything but a 200 is a
failure. Runs only against the host it is given (the bench gives 127.0.0.1).
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

TOKEN = os.environ.get("BENCH_TOKEN", "")
DISTRICTS = os.environ.get("BENCH_DISTRICTS", "330106").split(",")
TIERS = ("innovative_sme", "specialized_sme", "little_giant")
NAME_FRAGMENTS = ("精密", "科技", "机械", "新材料", "智能", "电子", "杭州", "宁波", "浙江")


class Officer(HttpUser):
    """A provincial officer at work (a short think time between clicks)."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"
        self.ids: list[int] = []
        self.usccs: list[str] = []
        response = self.client.get("/api/v1/enterprises", params={"per_page": 100, "sort": "-id"},
                                   name="/api/v1/enterprises [latest]")
        if response.ok:
            for row in response.json().get("items", []):
                self.ids.append(row["id"])
                self.usccs.append(row["uscc"])

    @task(30)
    def roster_page(self) -> None:
        params = {"tier": random.choice(TIERS), "status": "active", "page": random.randint(1, 3)}
        if random.random() < 0.7:
            params["region"] = random.choice(DISTRICTS)
        if random.random() < 0.5:
            params["expiring_within_days"] = random.choice((30, 90, 180))
        self.client.get("/api/v1/enterprises", params=params, name="/api/v1/enterprises [filters]")

    @task(25)
    def enterprise_page(self) -> None:
        if self.ids:
            self.client.get(f"/api/v1/enterprises/{random.choice(self.ids)}", name="/api/v1/enterprises/{id}")

    @task(12)
    def search_name(self) -> None:
        self.client.get("/api/v1/enterprises", params={"q": random.choice(NAME_FRAGMENTS)},
                        name="/api/v1/enterprises [q=name]")

    @task(8)
    def search_uscc(self) -> None:
        if self.usccs:
            uscc = random.choice(self.usccs)
            start = random.randint(2, 10)
            self.client.get("/api/v1/enterprises", params={"q": uscc[start:start + 8]},
                            name="/api/v1/enterprises [q=uscc]")

    @task(10)
    def grants(self) -> None:
        self.client.get("/api/v1/certifications", params={"tier": random.choice(TIERS),
                                                          "region": random.choice(DISTRICTS)},
                        name="/api/v1/certifications")

    @task(8)
    def reminders(self) -> None:
        self.client.get("/api/v1/reminders", name="/api/v1/reminders")

    @task(2)
    def export(self) -> None:
        self.client.get("/api/v1/exports/roster.csv", params={"region": random.choice(DISTRICTS),
                                                              "tier": "specialized_sme"},
                        name="/api/v1/exports/roster.csv [district]")
