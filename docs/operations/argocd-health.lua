-- Argo CD health check for mpj.dev/MixedPrecisionJob (install: docs/operations/gitops.md).
-- Reads the kstatus conditions (Ready, Stalled) and the phase the operator writes.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function explain(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  if obj.status ~= nil and obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return fallback
end

if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the job"
  return hs
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local stalled = condition("Stalled")
if status.phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  hs.status = "Degraded"
  hs.message = explain(stalled, "The job failed")
  return hs
end

if status.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = explain(condition("Suspended"), "The job is suspended")
  return hs
end

local ready = condition("Ready")
if status.phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = explain(ready, "The job succeeded")
  return hs
end

if status.phase == "Running" and ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(ready, "All replicas are running")
  return hs
end

-- Pending, Restarting, or Running while replicas start.
hs.status = "Progressing"
hs.message = explain(condition("Reconciling"), "The job is " .. status.phase)
return hs
