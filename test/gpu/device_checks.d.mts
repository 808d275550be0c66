/** [name, check] pairs; each throws on failure (see device_checks.mjs). */
export declare const deviceChecks: [string, () => void][];
