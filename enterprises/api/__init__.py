"""REST API of the register (serializers, filter sets and views in their own modules; routes
in `urls`)."""
