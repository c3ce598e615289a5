from django.db import migrations


def default_titles(year: int, quarter: int) -> set[str]:
    """The default title a release was given in either language before it was left empty
    ("%(quarter)s quarterly brief" of that day's catalogue, spelled out so that a later
    wording does not change what this migration recognises)."""
    return {f"{year}年第{quarter}季度季报", f"{year} Q{quarter} quarterly brief"}


def forget_default_titles(apps, schema_editor):
    """A default title was frozen in the steward's language: left empty, each reader sees
    it in their own. Titles a steward wrote are kept."""
    Release = apps.get_model("targets", "Release")
    for release in Release.objects.exclude(title=""):
        if release.title in default_titles(release.year, release.quarter):
            Release.objects.filter(pk=release.pk).update(title="")


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0016_release_title_optional_share_names_english"),
    ]

    operations = [
        migrations.RunPython(forget_default_titles, migrations.RunPython.noop),
    ]
