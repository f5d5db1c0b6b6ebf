-- test: the seed's EXEC example, verbatim. Sends a test event to the webhook and shows the receiver's answer.
EXEC databricks_workspace.ml.model_registry_webhooks.test
@deployment_name='{{ deployment_name }}' --required
@@json=
'{
"id": "{{ id }}",
"event": "{{ event }}"
}'
;
