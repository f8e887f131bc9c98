// Placeholder replaced below by the DynamoDB Local launcher.
export default async function setup() {}
