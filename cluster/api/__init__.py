"""What every API endpoint shares (permission and pagination in `access`, the keyset
pagination of the large lists in `pagination`, the error shape in `errors`, filter and router
bases) and the read-only endpoints of the reference data.

Left empty on purpose: DRF imports `cluster.api.access` while it loads its settings, and that
import must not pull in the rest (which imports DRF's views)."""
