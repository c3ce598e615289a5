from django.conf import settings

from cluster.celery import app


def test_celery_reads_its_configuration_from_the_settings():
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.timezone == "Asia/Shanghai"


def test_tasks_go_through_redis_when_a_broker_is_configured():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default: no broker, tasks run in the web process.
        assert settings.CELERY_BROKER_URL == "memory://"
        return
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.transport.driver_type == "redis"
