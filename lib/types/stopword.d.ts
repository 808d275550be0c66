// The part of the `stopword` package tensorforge uses (it ships no types).
declare module 'stopword' {
  export const eng: string[];
}
