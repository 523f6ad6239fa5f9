/**
 * The one module that imports cdk8s-plus: every workload builder takes its Kubernetes API from
 * here, so moving to the cdk8s-plus of a newer Kubernetes changes this line only.
 */
export { k8s, ServiceAccount } from 'cdk8s-plus-28';
