import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { prefetchOverview } from './api';
import { App } from './App';
import './styles.css';

// The overview is the first thing most people see: ask for it alongside the session check.
if (window.location.pathname === '/') prefetchOverview();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
