"""Engines: where a sweep's trainings run, cut into shards that keep the stacking.

``base`` holds what every engine shares (shards, the events they stream);
``choose.open_engine`` picks one; ``in_process`` trains each training whole in this process;
``ray_engine`` runs shards as Ray tasks and is imported only when chosen, so
the core never needs Ray installed; ``merge`` turns shard epochs back into
whole-training ``EpochEnd`` events for the run history; ``shard`` is the part
a worker runs.
"""
