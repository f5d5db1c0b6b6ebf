-- sqlprovider quickstart: a tour of the local sandbox workspace (deployment_name = 'sandbox').
-- Run it with: sqlprovider exec queries/quickstart.sql

-- 0. Start clean: remove what an earlier run of this tour left behind.
DELETE FROM databricks_workspace.ml.model_registry_webhooks
WHERE deployment_name = 'sandbox' AND description LIKE 'quickstart:%';

-- 1. Create three webhooks. RETURNING shows what the workspace answered (its id, status, timestamps).
INSERT INTO databricks_workspace.ml.model_registry_webhooks
  (deployment_name, model_name, events, description, http_url_spec, job_spec)
VALUES
  ('sandbox', 'fraud-detector', '["MODEL_VERSION_CREATED", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"]',
   'quickstart: tell the fraud team about new versions',
   '{"url": "https://hooks.example.com/fraud", "secret": "quickstart-signing-secret"}', NULL),
  ('sandbox', 'churn-model', '["TRANSITION_REQUEST_CREATED"]',
   'quickstart: review stage requests',
   '{"url": "https://hooks.example.com/reviews"}', NULL),
  ('sandbox', NULL, '["REGISTERED_MODEL_CREATED"]',
   'quickstart: run the onboarding job for every new model',
   NULL, '{"job_id": "1234", "access_token": "quickstart-job-token"}')
RETURNING id, model_name, events, status;

-- 2. List with pushdown: the events filter travels to the API; the LIKE is applied locally.
SELECT model_name, events, json_extract(http_url_spec, '$.url') AS url, status
FROM databricks_workspace.ml.model_registry_webhooks
WHERE deployment_name = 'sandbox'
  AND events IN ('MODEL_VERSION_CREATED', 'TRANSITION_REQUEST_CREATED')
  AND description LIKE 'quickstart:%'
ORDER BY model_name;

-- 3. Update: put the churn webhook in test mode.
UPDATE databricks_workspace.ml.model_registry_webhooks
SET status = 'TEST_MODE'
WHERE deployment_name = 'sandbox' AND model_name = 'churn-model' AND description LIKE 'quickstart:%'
RETURNING model_name, status;

-- 4. Test a delivery: the onboarding webhook runs its job (the sandbox simulates the run and answers).
-- EXEC takes literal values; a parameter written as (SELECT ...) is looked up first.
EXEC databricks_workspace.ml.model_registry_webhooks.test
  @deployment_name = 'sandbox',
  @id = (SELECT id FROM databricks_workspace.ml.model_registry_webhooks
         WHERE deployment_name = 'sandbox' AND description LIKE 'quickstart: run the onboarding job%');

-- 5. Clean up: delete the tour's webhooks, showing what was deleted.
DELETE FROM databricks_workspace.ml.model_registry_webhooks
WHERE deployment_name = 'sandbox' AND description LIKE 'quickstart:%'
RETURNING model_name, status;
