"""The table names the admin tools pre-create changelogs for are the worker's tables."""

from __future__ import annotations

from monitor.worker.topicnames import TABLE_NAMES, changelog_topic_names


class TestChangelogNames:
    def test_every_table_has_its_changelog_created_ahead(self) -> None:
        """TABLE_NAMES lists exactly the app's tables, and the changelog names are faust's own."""
        import monitor.worker.tables.lateness  # noqa: F401
        import monitor.worker.tables.reviews  # noqa: F401
        import monitor.worker.tables.stores  # noqa: F401
        from monitor.worker.app import app, settings

        assert set(app.tables) == set(TABLE_NAMES)
        assert sorted(changelog_topic_names(settings.app_id)) == sorted(
            t.changelog_topic.get_topic_name() for t in app.tables.values())
