"""REST API of the targets engine: targets, progress snapshots and alerts (serializers,
filter sets and views in their own modules; routes in `urls`)."""
