export { complianceScanWorkflow } from './compliance-scan';
export { remediationWorkflow } from './remediation';
export { refreshHostWorkflow, telemetrySweepWorkflow } from './telemetry';
