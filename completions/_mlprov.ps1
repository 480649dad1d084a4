
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mlprov' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mlprov'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mlprov' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of mlprov.toml, or of a command''s `--format json` document')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write an mlprov.toml for this training repository')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Scan model files for code and for unsafe or malformed formats')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Check the inputs, run and record the training, and write provenance and SBOMs')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Verify a model, copy it with every bundle to another registry, move the tag')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign a model''s files as an OpenSSF Model Signing bundle (model.sig)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a Kubernetes admission webhook that admits workloads only when their models verify')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Sign a revocation list (for `revocation-list` in [policy])')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (dynamic in bash, zsh and fish: they ask mlprov for the project''s input names, registry references and predicate types)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page of mlprov or of a command (or write all pages to a directory)')
            [CompletionResult]::new('pin', 'pin', [CompletionResultType]::ParameterValue, 'Resolve every input to immutable bytes and write mlprov.lock')
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Sign the build''s provenance and SBOM, or any predicate, into Sigstore bundles')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Pull a model from an OCI registry, verify it, then place its files')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a model: its files, signatures, signers and required attestations')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'Draw the verified provenance graph (DOT, Mermaid or JSON)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlprov;schema' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;init' {
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'What this repository produces')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Logical artifact name, e.g. acme/support-llama')
            [CompletionResult]::new('--artifact-version', '--artifact-version', [CompletionResultType]::ParameterName, 'Artifact version')
            [CompletionResult]::new('--license', '--license', [CompletionResultType]::ParameterName, 'SPDX license expression of the output')
            [CompletionResult]::new('--base-model', '--base-model', [CompletionResultType]::ParameterName, 'Base model: a Hugging Face repo id (org/name[@revision]) or a local path')
            [CompletionResult]::new('--dataset', '--dataset', [CompletionResultType]::ParameterName, 'Training dataset: a local path or hf-dataset:org/name[@revision]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The build''s output directory')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Accept detected values and defaults without prompting')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Accept detected values and defaults without prompting')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing mlprov.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;scan' {
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Fail on this kind too, like `[policy] formats.deny` (e.g. `pickle`). Repeatable')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Allow findings of a kind, or `KIND:SUBJECT` (e.g. `pickle-global:sklearn.*`), like `[policy] formats.allow`. Repeatable')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Read `[policy] formats` from this file (an mlprov.toml or a policy.toml); --deny and --allow add to it')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--include-git', '--include-git', [CompletionResultType]::ParameterName, 'Also scan `.git/`, `.github/`, `.gitattributes` and `.gitignore`')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;build' {
            [CompletionResult]::new('--run', '--run', [CompletionResultType]::ParameterName, 'Import a run record made elsewhere (a run.json) instead of running a command')
            [CompletionResult]::new('--param', '--param', [CompletionResultType]::ParameterName, 'Record an extra hyperparameter. Repeatable')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--allow-dirty', '--allow-dirty', [CompletionResultType]::ParameterName, 'Build from a git tree with uncommitted changes (recorded in the run)')
            [CompletionResult]::new('--cyclonedx', '--cyclonedx', [CompletionResultType]::ParameterName, 'Also write a CycloneDX 1.6 ML-BOM (default: [build] cyclonedx)')
            [CompletionResult]::new('--skip-training', '--skip-training', [CompletionResultType]::ParameterName, 'Do not run [training] command: hash and describe the outputs as they are')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;promote' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A trusted public key (PEM). Repeatable')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego')
            [CompletionResult]::new('--policy-query', '--policy-query', [CompletionResultType]::ParameterName, 'The Rego rule whose set of messages denies a node')
            [CompletionResult]::new('--policy-scope', '--policy-scope', [CompletionResultType]::ParameterName, 'Where Rego rules run: every node of the graph, or the verified artifact only')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'How deep to walk resolvedDependencies; a deeper graph fails verification')
            [CompletionResult]::new('--vsa-key', '--vsa-key', [CompletionResultType]::ParameterName, 'Sign the promotion''s VSA with this private key')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log the key-signed VSA in Rekor (default: on when --rekor-url or MLPROV_REKOR_URL is given)')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Verify and print what would be copied, attached and tagged; change nothing in DST')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must')
            [CompletionResult]::new('--refresh-trusted-root', '--refresh-trusted-root', [CompletionResultType]::ParameterName, 'Fetch the current public-good trusted root over TUF first (needs the network)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('--vsa-keyless', '--vsa-keyless', [CompletionResultType]::ParameterName, 'Sign the VSA keyless with Sigstore (the job token in GitHub Actions, --identity-token, or a browser sign-in)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;keygen' {
            [CompletionResult]::new('--output-key-prefix', '--output-key-prefix', [CompletionResultType]::ParameterName, 'Write PREFIX.key and PREFIX.pub')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--no-password', '--no-password', [CompletionResultType]::ParameterName, 'Write the private key unencrypted (PKCS#8 PEM). Only for throwaway keys')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite existing key files')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;sign' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'Where to write the signature (default: PATH/model.sig)')
            [CompletionResult]::new('--ignore-paths', '--ignore-paths', [CompletionResultType]::ParameterName, 'Leave these paths (relative to the model) out of the signature. Repeatable')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--keyless', '--keyless', [CompletionResultType]::ParameterName, 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor')
            [CompletionResult]::new('--no-ignore-git-paths', '--no-ignore-git-paths', [CompletionResultType]::ParameterName, 'Sign .git/, .github/, .gitattributes and .gitignore too')
            [CompletionResult]::new('--allow-symlinks', '--allow-symlinks', [CompletionResultType]::ParameterName, 'Follow symlinks that stay inside the model instead of refusing them')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;serve' {
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'The server certificate (PEM; the certificate first, then intermediates) [env: MLPROV_SERVE_TLS_CERT]')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The certificate''s private key (PEM, unencrypted) [env: MLPROV_SERVE_TLS_KEY]')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on [default: 0.0.0.0:8443] [env: MLPROV_SERVE_LISTEN]')
            [CompletionResult]::new('--deadline-ms', '--deadline-ms', [CompletionResultType]::ParameterName, 'Milliseconds a review may take; a verification still running then is a denial (keep it below the webhook''s timeoutSeconds) [default: 8000] [env: MLPROV_SERVE_DEADLINE_MS]')
            [CompletionResult]::new('--cache-ttl', '--cache-ttl', [CompletionResultType]::ParameterName, 'Seconds a model''s verdict is kept, by digest [default: 300] [env: MLPROV_SERVE_CACHE_TTL]')
            [CompletionResult]::new('--max-request-bytes', '--max-request-bytes', [CompletionResultType]::ParameterName, 'Largest review body read; a larger one is answered 413 [default: 7340032 (7 MiB)] [env: MLPROV_SERVE_MAX_REQUEST_BYTES]')
            [CompletionResult]::new('--allow-registry', '--allow-registry', [CompletionResultType]::ParameterName, 'A registry models may come from (host[:port] as in references); a model from another is denied. Repeatable (default: any registry)')
            [CompletionResult]::new('--vsa-key', '--vsa-key', [CompletionResultType]::ParameterName, 'A verifier''s public key (PEM): a VSA it signed about the model''s manifest digest, with verificationResult PASSED, admits the model without verifying it again. Repeatable')
            [CompletionResult]::new('--vsa-certificate-identity', '--vsa-certificate-identity', [CompletionResultType]::ParameterName, 'Trust VSAs signed keylessly by exactly this identity (a verification job''s workflow, https://github.com/OWNER/REPO/.github/workflows/FILE@REF), as --vsa-key trusts a key; checked against --trusted-root')
            [CompletionResult]::new('--vsa-certificate-identity-regexp', '--vsa-certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust VSAs signed keylessly by an identity matching this regular expression in full')
            [CompletionResult]::new('--vsa-certificate-oidc-issuer', '--vsa-certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted VSA signer, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A trusted public key (PEM). Repeatable')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego')
            [CompletionResult]::new('--policy-query', '--policy-query', [CompletionResultType]::ParameterName, 'The Rego rule whose set of messages denies a node')
            [CompletionResult]::new('--policy-scope', '--policy-scope', [CompletionResultType]::ParameterName, 'Where Rego rules run: every node of the graph, or the verified artifact only')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'How deep to walk resolvedDependencies; a deeper graph fails verification')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must')
            [CompletionResult]::new('--refresh-trusted-root', '--refresh-trusted-root', [CompletionResultType]::ParameterName, 'Fetch the current public-good trusted root over TUF first (needs the network)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;revoke' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with each digest)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key to sign the list with')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The revocation list to write; an existing list signed by the same key is extended')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The revocation list to write; an existing list signed by the same key is extended')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;completions' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Write the script where the shell loads it instead of printing it: bash-completion''s user directory, fish''s completions directory, or zsh''s site-functions under ~/.local/share (add that to fpath)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;man' {
            [CompletionResult]::new('--out-dir', '--out-dir', [CompletionResultType]::ParameterName, 'Write mlprov.1 and one page per command (mlprov-attest-import.1 too) into DIR (`man/man1` for `man -M man`)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Write the pages into $XDG_DATA_HOME/man/man1 (default ~/.local/share/man/man1), where man finds them for programs in ~/.local/bin')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;pin' {
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('--update', '--update', [CompletionResultType]::ParameterName, 'Re-resolve this input''s moving revision (branch or tag). Repeatable')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--locked', '--locked', [CompletionResultType]::ParameterName, 'Fail (exit 1) if the lock would change, naming the inputs; write nothing')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;attest' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key to sign with (cosign format, or PKCS#8/SEC1 PEM). Password from MLPROV_PASSWORD, COSIGN_PASSWORD or a prompt')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Attest this predicate type (a URI) about the built artifact; needs --predicate')
            [CompletionResult]::new('--predicate', '--predicate', [CompletionResultType]::ParameterName, 'The predicate document (JSON) for --type')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--keyless', '--keyless', [CompletionResultType]::ParameterName, 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Attest where a third-party input in mlprov.lock came from (import provenance)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlprov;attest;import' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key to sign with')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor (the transparency log) to use (default: https://rekor.sigstore.dev). Naming one also logs key-signed bundles there, unless --tlog-upload=false')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log key-signed bundles in Rekor and put the inclusion proof, checkpoint and signed entry timestamp in the bundle, as cosign does (default: on when --rekor-url or MLPROV_REKOR_URL is given). Keyless signing always logs')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) to check the certificate and log entry against; needed with a private --fulcio-url/--rekor-url (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--keyless', '--keyless', [CompletionResultType]::ParameterName, 'Sign keyless with Sigstore instead of a key: a short-lived Fulcio certificate for your OIDC identity (GitHub Actions'' job token, --identity-token, or a browser sign-in), with the signature logged in Rekor')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;attest;help' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Attest where a third-party input in mlprov.lock came from (import provenance)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlprov;attest;help;import' {
            break
        }
        'mlprov;attest;help;help' {
            break
        }
        'mlprov;push' {
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;pull' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Directory to place the files in; must be absent or empty (default: the repository''s last path part)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Directory to place the files in; must be absent or empty (default: the repository''s last path part)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A trusted public key (PEM). Repeatable')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego')
            [CompletionResult]::new('--policy-query', '--policy-query', [CompletionResultType]::ParameterName, 'The Rego rule whose set of messages denies a node')
            [CompletionResult]::new('--policy-scope', '--policy-scope', [CompletionResultType]::ParameterName, 'Where Rego rules run: every node of the graph, or the verified artifact only')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'How deep to walk resolvedDependencies; a deeper graph fails verification')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Skip signature and policy verification (the downloaded bytes are still checked against their digests)')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must')
            [CompletionResult]::new('--refresh-trusted-root', '--refresh-trusted-root', [CompletionResultType]::ParameterName, 'Fetch the current public-good trusted root over TUF first (needs the network)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;why' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Count only provenance signed by these keys (PEM). Without keys, every provenance statement read counts, signed by anyone')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'Read the models of this registry repository (every tag; or one, as REPO:TAG) and their bundle referrers instead of the local store. Repeatable')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;verify' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A trusted public key (PEM). Repeatable')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'The model''s signature (default: TARGET/model.sig)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Another bundle that must verify and be about the model. Repeatable')
            [CompletionResult]::new('--ignore-paths', '--ignore-paths', [CompletionResultType]::ParameterName, 'Leave these paths (relative to the model) out of the file check. Repeatable')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego')
            [CompletionResult]::new('--policy-query', '--policy-query', [CompletionResultType]::ParameterName, 'The Rego rule whose set of messages denies a node')
            [CompletionResult]::new('--policy-scope', '--policy-scope', [CompletionResultType]::ParameterName, 'Where Rego rules run: every node of the graph, or the verified artifact only')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'How deep to walk resolvedDependencies; a deeper graph fails verification')
            [CompletionResult]::new('--emit-vsa', '--emit-vsa', [CompletionResultType]::ParameterName, 'Write a SLSA Verification Summary (VSA) of the result to FILE')
            [CompletionResult]::new('--vsa-key', '--vsa-key', [CompletionResultType]::ParameterName, 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log the key-signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Judge TARGET as the policy judges an input in this role: [policy.roles.ROLE]''s signers, required predicates, scans and licenses (e.g. a dataset or base model before pinning it). Neither the model signature nor the model card is required of it')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must')
            [CompletionResult]::new('--refresh-trusted-root', '--refresh-trusted-root', [CompletionResultType]::ParameterName, 'Fetch the current public-good trusted root over TUF first (needs the network)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('--vsa-keyless', '--vsa-keyless', [CompletionResultType]::ParameterName, 'Sign the VSA keyless with Sigstore instead of a key: a Fulcio certificate for your OIDC identity (the job token in GitHub Actions, --identity-token, or a browser sign-in)')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Push the signed VSA to the registry as a referrer of the verified model''s manifest (TARGET must be an OCI reference, and the verification must pass), so an admission gate can admit the model by checking one VSA from the verifier''s identity')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;graph' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'A trusted public key (PEM). Repeatable')
            [CompletionResult]::new('--certificate-chain', '--certificate-chain', [CompletionResultType]::ParameterName, 'Trusted certificates (PEM) for certificate-signed bundles. Repeatable')
            [CompletionResult]::new('--certificate-identity', '--certificate-identity', [CompletionResultType]::ParameterName, 'Trust keyless signatures by exactly this identity: the certificate''s email or URI (for GitHub Actions, https://github.com/OWNER/REPO/.github/workflows/FILE@REF)')
            [CompletionResult]::new('--certificate-identity-regexp', '--certificate-identity-regexp', [CompletionResultType]::ParameterName, 'Trust keyless signatures whose identity matches this regular expression in full. A loose pattern trusts anyone who can get a certificate: prefer --certificate-identity')
            [CompletionResult]::new('--certificate-oidc-issuer', '--certificate-oidc-issuer', [CompletionResultType]::ParameterName, 'The OIDC issuer of the trusted identity, matched exactly (e.g. https://token.actions.githubusercontent.com)')
            [CompletionResult]::new('--trusted-root', '--trusted-root', [CompletionResultType]::ParameterName, 'Sigstore trusted root (trusted_root.json) with the Fulcio CAs, Rekor logs and CT logs to trust: for private deployments and air-gapped machines (default: the last --refresh-trusted-root, else the public-good root built into mlprov)')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'The model''s signature (default: TARGET/model.sig)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Another bundle that must verify and be about the model. Repeatable')
            [CompletionResult]::new('--ignore-paths', '--ignore-paths', [CompletionResultType]::ParameterName, 'Leave these paths (relative to the model) out of the file check. Repeatable')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'Registry user name; the password is read from stdin (--password-stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds without progress before a registry request is retried [default: 60] [env: MLPROV_REGISTRY_TIMEOUT]')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'A policy: a .toml file (`[policy]` or policy keys; replaces mlprov.toml''s [policy]) or a .rego file (deny rules, evaluated per node). Repeatable: one .toml, any number of .rego')
            [CompletionResult]::new('--policy-query', '--policy-query', [CompletionResultType]::ParameterName, 'The Rego rule whose set of messages denies a node')
            [CompletionResult]::new('--policy-scope', '--policy-scope', [CompletionResultType]::ParameterName, 'Where Rego rules run: every node of the graph, or the verified artifact only')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'How deep to walk resolvedDependencies; a deeper graph fails verification')
            [CompletionResult]::new('--emit-vsa', '--emit-vsa', [CompletionResultType]::ParameterName, 'Write a SLSA Verification Summary (VSA) of the result to FILE')
            [CompletionResult]::new('--vsa-key', '--vsa-key', [CompletionResultType]::ParameterName, 'Sign the VSA with this private key (a Sigstore bundle); else a bare statement')
            [CompletionResult]::new('--tlog-upload', '--tlog-upload', [CompletionResultType]::ParameterName, 'Log the key-signed VSA in Rekor, as `sign --tlog-upload` does (default: on when --rekor-url or MLPROV_REKOR_URL is given)')
            [CompletionResult]::new('--rekor-url', '--rekor-url', [CompletionResultType]::ParameterName, 'Rekor to log the signed VSA in (default: https://rekor.sigstore.dev)')
            [CompletionResult]::new('--identity-token', '--identity-token', [CompletionResultType]::ParameterName, 'The OIDC identity token (a JWT with audience `sigstore`) to sign the VSA keyless with')
            [CompletionResult]::new('--fulcio-url', '--fulcio-url', [CompletionResultType]::ParameterName, 'Fulcio (the certificate authority) to use')
            [CompletionResult]::new('--oidc-issuer', '--oidc-issuer', [CompletionResultType]::ParameterName, 'OIDC issuer for the browser sign-in')
            [CompletionResult]::new('--oidc-client-id', '--oidc-client-id', [CompletionResultType]::ParameterName, 'OIDC client ID for the browser sign-in')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'A predicate type that must be proven (e.g. https://slsa.dev/provenance/v1). Repeatable')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Judge TARGET as the policy judges an input in this role: [policy.roles.ROLE]''s signers, required predicates, scans and licenses (e.g. a dataset or base model before pinning it). Neither the model signature nor the model card is required of it')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: human-readable text or a JSON document on stdout (`mlprov graph` also draws `dot` and `mermaid`)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if mlprov was started in DIR')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colors on the terminal')
            [CompletionResult]::new('--require-tlog', '--require-tlog', [CompletionResultType]::ParameterName, 'Key-signed bundles must carry a transparency log entry (with a signed entry timestamp) that verifies against the trusted root''s Rekor logs, as cosign --key requires. Keyless bundles always must')
            [CompletionResult]::new('--refresh-trusted-root', '--refresh-trusted-root', [CompletionResultType]::ParameterName, 'Fetch the current public-good trusted root over TUF first (needs the network)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Talk plain HTTP to the registry (a local registry) [env: MLPROV_REGISTRY_PLAIN_HTTP=1]')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Accept any TLS certificate from the registry [env: MLPROV_REGISTRY_INSECURE=1]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the registry password from stdin (with --username)')
            [CompletionResult]::new('--vsa-keyless', '--vsa-keyless', [CompletionResultType]::ParameterName, 'Sign the VSA keyless with Sigstore instead of a key: a Fulcio certificate for your OIDC identity (the job token in GitHub Actions, --identity-token, or a browser sign-in)')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'Push the signed VSA to the registry as a referrer of the verified model''s manifest (TARGET must be an OCI reference, and the verification must pass), so an admission gate can admit the model by checking one VSA from the verifier''s identity')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print less: errors only')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail (repeat for even more)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Never touch the network: resolve from local caches only (HF_HUB_OFFLINE=1 keeps only Hugging Face offline)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlprov;help' {
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of mlprov.toml, or of a command''s `--format json` document')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write an mlprov.toml for this training repository')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Scan model files for code and for unsafe or malformed formats')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Check the inputs, run and record the training, and write provenance and SBOMs')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Verify a model, copy it with every bundle to another registry, move the tag')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Make a cosign-compatible key pair: cosign.key (encrypted) and cosign.pub')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign a model''s files as an OpenSSF Model Signing bundle (model.sig)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run a Kubernetes admission webhook that admits workloads only when their models verify')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Sign a revocation list (for `revocation-list` in [policy])')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions (dynamic in bash, zsh and fish: they ask mlprov for the project''s input names, registry references and predicate types)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page of mlprov or of a command (or write all pages to a directory)')
            [CompletionResult]::new('pin', 'pin', [CompletionResultType]::ParameterValue, 'Resolve every input to immutable bytes and write mlprov.lock')
            [CompletionResult]::new('attest', 'attest', [CompletionResultType]::ParameterValue, 'Sign the build''s provenance and SBOM, or any predicate, into Sigstore bundles')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Push the built model to an OCI registry (ModelPack), with its bundles as referrers')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Pull a model from an OCI registry, verify it, then place its files')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'List every artifact (in the local store or a registry) that descends from DIGEST or NAME')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a model: its files, signatures, signers and required attestations')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'Draw the verified provenance graph (DOT, Mermaid or JSON)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlprov;help;schema' {
            break
        }
        'mlprov;help;init' {
            break
        }
        'mlprov;help;scan' {
            break
        }
        'mlprov;help;build' {
            break
        }
        'mlprov;help;promote' {
            break
        }
        'mlprov;help;keygen' {
            break
        }
        'mlprov;help;sign' {
            break
        }
        'mlprov;help;serve' {
            break
        }
        'mlprov;help;revoke' {
            break
        }
        'mlprov;help;completions' {
            break
        }
        'mlprov;help;man' {
            break
        }
        'mlprov;help;pin' {
            break
        }
        'mlprov;help;attest' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Attest where a third-party input in mlprov.lock came from (import provenance)')
            break
        }
        'mlprov;help;attest;import' {
            break
        }
        'mlprov;help;push' {
            break
        }
        'mlprov;help;pull' {
            break
        }
        'mlprov;help;why' {
            break
        }
        'mlprov;help;verify' {
            break
        }
        'mlprov;help;graph' {
            break
        }
        'mlprov;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
