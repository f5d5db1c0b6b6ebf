-- list: the seed's SELECT example, verbatim. Fill with --var deployment_name=... (others may be empty).
SELECT
id,
model_name,
creation_timestamp,
description,
events,
http_url_spec,
job_spec,
last_updated_timestamp,
status
FROM databricks_workspace.ml.model_registry_webhooks
WHERE deployment_name = '{{ deployment_name }}' -- required
AND events = '{{ events }}'
AND max_results = '{{ max_results }}'
AND model_name = '{{ model_name }}'
AND page_token = '{{ page_token }}'
;
