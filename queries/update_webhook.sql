-- update: the seed's UPDATE example, verbatim. Pinned to deployment_name and id, it makes exactly one
-- request; empty values are left unchanged.
UPDATE databricks_workspace.ml.model_registry_webhooks
SET
id = '{{ id }}',
description = '{{ description }}',
events = '{{ events }}',
http_url_spec = '{{ http_url_spec }}',
job_spec = '{{ job_spec }}',
status = '{{ status }}'
WHERE
deployment_name = '{{ deployment_name }}' --required
AND id = '{{ id }}' --required
RETURNING
webhook;
