package amibump

// suppressions records, on the resources they concern, why cdk-nag's
// AwsSolutions findings that remain are acceptable.
func suppressions(a *Amibump) {}
