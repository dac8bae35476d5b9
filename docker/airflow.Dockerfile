# Airflow image for docker-compose.yml: the official image plus the project's locked dependencies.
#
# Only dependencies live in the image. The code (dags/, etl/, ml/, job/, sql/, expectations/) is
# bind-mounted by docker-compose.yml at /opt/churn and imported through PYTHONPATH, so a code
# change needs no rebuild and the containers run exactly the files in the working tree.
# Rebuild when constraints.txt or pyproject.toml changes: `docker compose build`.
#
# Build context is the repo root (see docker-compose.yml); this file only COPYs
# constraints.txt and pyproject.toml (airflow.Dockerfile.dockerignore keeps BuildKit's
# context to those two files).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

# Writable state (models, reports) lives in named volumes mounted under /opt/churn/state; a fresh
# named volume copies the ownership of the image directory it is mounted on, so create the
# folders here as the airflow user (uid 50000, gid 0) rather than letting Docker create them as root.
USER root
RUN mkdir -p /opt/churn/state/models /opt/churn/state/reports /opt/churn/data \
    && chown -R airflow:0 /opt/churn
USER airflow

COPY --chown=airflow:0 constraints.txt pyproject.toml /opt/churn/

# The direct dependencies from pyproject.toml, every version (transitive too) fixed by the lock.
# apache-airflow==3.3.2 is among them, so pip keeps the image's Airflow as it is. The Celery
# and Redis providers that CeleryExecutor needs come with the official image (not in our lock;
# apache-airflow-providers-celery resolves against the lock without moving any locked version).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/opt/churn/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -c /opt/churn/constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt \
    && python -c "import airflow.providers.celery, great_expectations, sklearn, psycopg2"

ENV PYTHONPATH=/opt/churn
