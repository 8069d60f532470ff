// The devDependency alias `express4` is Express 4 at run time; its API is the subset of Express 5's types used here.
declare module 'express4' {
  const express: typeof import('express');
  export default express;
}
