export { complianceScanWorkflow } from './compliance-scan';
export { reclaimWorkflow } from './reclaim';
export { reclaimScanWorkflow } from './reclaim-scan';
export { remediationWorkflow } from './remediation';
export { refreshHostWorkflow, telemetrySweepWorkflow } from './telemetry';
