// Types of bin/build-state.js (plain JavaScript: the bin runs it before any TypeScript loader).
export declare const SOURCE_DIRS: string[];
export declare const SOURCE_FILES: string[];
export declare const OUT_DIR: string;
export declare const MANIFEST: string;
export declare function sourceStamps(root: string): Record<string, string>;
export declare function staleReason(root: string): string | null;
