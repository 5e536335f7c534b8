"""The Python side of data versions: replay a run on its data, refresh it, run new code on old data."""

from flow import diabetes
from make_data import write_rows

write_rows(100)
first = diabetes.run()
write_rows(50)  # the source changes after the run

replayed = first.replay()  # zen run pipelines/diabetes/<run>.yaml
print("replay rows:", replayed.metrics()["fit"]["rows"])
print("served from the first run's snapshot:", replayed.data_versions["datasource"].pinned_from == first.id)

refreshed = first.replay(refresh_data=True)  # zen run pipelines/diabetes/<run>.yaml --refresh-data
print("refreshed rows:", refreshed.metrics()["fit"]["rows"])

on_old_data = diabetes.run(data_from=first.id)  # zen run flow.py:diabetes --data-from <run>
print("data_from rows:", on_old_data.metrics()["fit"]["rows"])
print("recorded in its spec:", on_old_data.spec.data_from["datasource"].run == first.id)
