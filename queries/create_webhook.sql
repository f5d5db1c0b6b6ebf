-- create: the seed's INSERT example, verbatim. events is a JSON array; http_url_spec / job_spec JSON objects
-- (give exactly one, leave the other empty); empty optional values are not sent.
INSERT INTO databricks_workspace.ml.model_registry_webhooks (
events,
description,
http_url_spec,
job_spec,
model_name,
status,
deployment_name
)
SELECT
'{{ events }}' /* required */,
'{{ description }}',
'{{ http_url_spec }}',
'{{ job_spec }}',
'{{ model_name }}',
'{{ status }}',
'{{ deployment_name }}'
RETURNING
webhook
;
