-- delete: the seed's EXEC example, verbatim.
EXEC databricks_workspace.ml.model_registry_webhooks.delete
@id='{{ id }}' --required,
@deployment_name='{{ deployment_name }}' --required
;
