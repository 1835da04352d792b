export { remediationWorkflow } from './remediation';
