export { complianceScanWorkflow } from './compliance-scan';
export { reclaimWorkflow } from './reclaim';
export { remediationWorkflow } from './remediation';
export { refreshHostWorkflow, telemetrySweepWorkflow } from './telemetry';
