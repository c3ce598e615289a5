"""Writes of the firm register, one module per use case: firms with the rows of their page
(`enterprises`), a firm's designations, listings and milestones (`records`), research
projects (`projects`). The rules every write of the register follows — who may write where,
model validation with each error on its field, history credited to the actor — are in
`rules`. Pages, API and admin call these functions; nothing else saves these models."""

from .enterprises import enterprise_save
from .projects import project_delete, project_save
from .records import record_delete, record_save, records_save

__all__ = [
    "enterprise_save",
    "project_delete",
    "project_save",
    "record_delete",
    "record_save",
    "records_save",
]
