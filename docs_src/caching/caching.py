"""Caching: unchanged steps are served from the cache; what changes a cache key; turning it off."""

import time

from zenml import pipeline, step


@step
def load(n: int = 5) -> list[int]:
    """The data."""
    return list(range(n))


@step
def total(values: list[int]) -> int:
    """A deterministic step: safe to cache."""
    return sum(values)


@step(enable_cache=False)
def timestamp() -> float:
    """Not deterministic (reads the clock), so it is never served from the cache."""
    return time.time()


@pipeline
def cached_flow() -> None:
    """Two branches: load → total, and an independent timestamp step."""
    total(load())
    timestamp()


@pipeline
def fresh_total() -> None:
    """The same steps, but ``total`` configured never to use the cache."""
    total.configure(enable_cache=False)(load())


def statuses(run) -> dict[str, str]:
    """Each step's status in a run."""
    return {name: s.status for name, s in run.steps.items()}


if __name__ == "__main__":
    print("first: ", statuses(cached_flow.run()))
    print("second:", statuses(cached_flow.run()))
    print("n=6:   ", statuses(cached_flow.run(params={"load": {"n": 6}})))
    print("off:   ", statuses(cached_flow.run(enable_cache=False)))
    fresh_total.run()
    print("fresh: ", statuses(fresh_total.run()))
    for plan in cached_flow.plan(params={"load": {"n": 7}}):
        print(f"plan {plan.name}: {plan.action} ({plan.reason})")
